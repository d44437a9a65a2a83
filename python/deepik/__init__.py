"""deepik: learned inverse kinematics for robot arms.

Units are metres and radians; positions and orientations are those of the tip frame T in the
arm's base frame B. Arrays are NumPy arrays with one row per sample.

    arm = deepik.Arm("seed")                      # built-in, DH table (.json) or URDF (.urdf)
    poses = arm.fk(q)                             # (n, dof) -> (n, 7) [x, y, z, qw, qx, qy, qz]
    model = deepik.Model("models/seed-default.safetensors")
    solver = deepik.Solver(model, "refined")      # deepik.solver_names()
    result = solver.solve(targets, threads=2)     # (n, 3) -> result.q, .reached, .error, .status
    solver.solve(poses, bounds="rz=free")         # (n, 7) [x, y, z, qw, qx, qy, qz], w first
    deepik.train("net.safetensors", arm="seed", epochs=5)   # the options of `deepik train`
    model.export_onnx("net.onnx")                 # as `deepik export --format onnx`
    deepik.collide("panda", q)                    # self-collision per row, as `deepik collide`
    deepik.solve("panda", targets, scene={"obstacles": [...]}, clearance=0.01)  # clear of obstacles

Bad input raises deepik.InputError (a ValueError) with the command line's message, ValueError
for wrong shapes or values, TypeError for wrong dtypes.
"""

from ._core import Arm, InputError, Model, SolveResults, Solver, make_dataset, solver_names

__all__ = ["Arm", "InputError", "Model", "SolveResults", "Solver", "collide", "make_dataset", "solve",
           "solver_names", "train"]


def collide(arm, q, model="exact", base="", tip="", package_path=(), matrix="", spheres=""):
    """Self-collision of joint configurations, as `deepik collide ARM --model MODEL`.

    arm: a URDF arm (panda, ur5, iiwa14 or a .urdf file; base and tip as deepik.Arm); q: joint
    values of shape (n, dof) or (dof,) (one row: n = 1) (rad or m, chain order). model: "exact" (FCL on the
    collision meshes and primitives) or "spheres" (the sphere model). package_path: folders for
    package://NAME/... meshes (as --package-path); matrix, spheres: the self-collision matrix and
    sphere model files (default: the shipped ones of a built-in arm).

    Returns a dict: "in_collision" (bool, (n,)), "min_distance" (float64, (n,), m; exact: 0 in
    collision; spheres: signed), "link_a" and "link_b" (lists of n link names: the colliding or the
    closest pair). Loads assimp and FCL (deepik._geometry) on first use. Raises deepik.InputError
    for a bad arm, file or mesh, ValueError / TypeError for a bad q.
    """
    from . import _geometry  # assimp and FCL: only when checking collisions

    return _geometry.collide(arm, q, model=model, base=base, tip=tip, package_path=list(package_path),
                             matrix=matrix, spheres=spheres)


class ClearResults:
    """What deepik.solve returns: q (n, dof), reached (n, 3), error (n,) (m), angle_error (n,) (rad;
    NaN for position targets), status (n,) str ('converged', ..., 'in collision'), min_distance (n,)
    (m: the sphere model's smallest signed distance, negative for an overlap; NaN with collisions
    off) and collisions (the mode used: 'off', 'self' or 'all'). A single (3,) or (7,) target gives
    rows without the batch dimension."""

    def __init__(self, answer):
        import numpy

        single = answer["single"]
        pick = (lambda a: a[0]) if single else (lambda a: a)
        self.q = pick(answer["q"])
        self.reached = pick(answer["reached"])
        self.error = pick(answer["error"])
        self.angle_error = pick(answer["angle_error"])
        self.status = pick(numpy.array(answer["status"], dtype="<U12"))
        self.min_distance = pick(answer["min_distance"])
        self.collisions = answer["collisions"]

    def __repr__(self):
        return f"ClearResults(collisions={self.collisions!r}, status={self.status!r})"


def solve(arm, targets, solver="", model="", collisions=None, clearance=0.0, scene=None, base="", tip="",
          package_path=(), matrix="", spheres="", timeout=0.005):
    """Collision-aware IK, as `deepik solve --collisions C --clearance M --scene FILE`.

    arm: a built-in arm or URDF file (panda, ur5, iiwa14, a .urdf; base and tip as deepik.Arm), or ""
    with model (a model file's path: refined and network run its network). targets: (n, 3) positions
    or (n, 7) poses [x, y, z, qw, qx, qy, qz] (m, base frame), or one row. solver: lm (the default
    without a model) or refined (with one) avoid collisions; others only with collisions="off".
    collisions: "off", "self" (the arm with itself), "all" (also the scene); None: "all" with a
    scene, else self when the arm has collision geometry and a sphere model (panda, ur5, iiwa14),
    else off. clearance: m (0..1) kept between links and from obstacles. scene: a dict in the scene
    format (docs/SCENES.md: {"obstacles": [{"shape": "box", "size": [...], "position": [...]}]}) or
    the path of a scene file. timeout: the time budget per target (s).

    Every 'converged' answer passed the exact check (FCL on the meshes); a target reached only in
    collision is 'in collision'. Returns ClearResults. Loads assimp and FCL (deepik._geometry)
    unless collisions="off". Raises deepik.InputError for a bad arm, scene, or a mode the arm or
    solver cannot keep (naming the field), ValueError / TypeError for bad targets or values.
    """
    import json
    import os

    scene_text, scene_path = "", ""
    if isinstance(scene, (str, os.PathLike)):
        scene_path = os.fspath(scene)
    elif scene is not None:
        if not isinstance(scene, dict):
            raise TypeError(f"scene: expected a dict or a path, got {type(scene).__name__}")
        scene_text = json.dumps(scene, allow_nan=True)  # NaN stays visible: the parser refuses it by name
    from . import _geometry  # assimp and FCL: the exact check of the answers

    return ClearResults(_geometry.solve(arm, targets, solver=solver, model=os.fspath(model), collisions=collisions or "",
                                        clearance=clearance, scene_text=scene_text, scene_path=scene_path, base=base,
                                        tip=tip, package_path=list(package_path), matrix=matrix, spheres=spheres,
                                        timeout=timeout))


def train(output, arm="", data="", base="", tip="", sampler="", count=100000, step=10.0, step_m=0.05,
          margin=0.2, data_seed=1, train_fraction=0.8, validation_fraction=0.1, depth=4, width=256,
          activation="relu", head="bounded", sincos=True, newton_steps=0, loss="fk", epochs=100, batch=1024, lr=1e-3,
          final_lr_fraction=0.01, patience=0, checkpoint_every=500, time_limit=0.0, seed=1, threads=2,
          eval_samples=10000, checkpoint="", log="", resume=False, heads=1, other_heads_weight=0.05,
          target="position", angle_weight=0.1, collision_weight=0.0, spheres="", matrix=""):
    """Trains a network and saves the model file `output`, as `deepik train`; returns the Model.

    Every keyword is the command's option of the same name (`--step-m` is step_m, `--no-sincos`
    is sincos=False, `--data-seed` is data_seed, `--time-limit` (s) is time_limit, `--lr` is lr):
    data from `arm` (with base and tip for a URDF) sampled with sampler/count/step/step_m/margin/
    data_seed/train_fraction/validation_fraction, or a dataset file `data`; the network
    depth/width/activation (relu, tanh, silu)/head (bounded, free)/sincos/newton_steps/heads (joint vectors per
    target, winner-takes-all with other_heads_weight: README "Multi-head models"); the loss (fk, mse,
    limit, fk+limit, fk=1,limit=0.1); epochs, batch, lr, final_lr_fraction, patience,
    checkpoint_every (steps), time_limit (s), seed, threads (libtorch), eval_samples; the
    checkpoint and log files (default: OUTPUT.ckpt, OUTPUT.log.csv); resume; target (position or
    pose: a pose model, trained on the joints sampler unless `sampler` is named; "" is workspace for
    position models) and its angle_weight (m per rad); collision_weight (the self-collision penalty
    of `--collision-weight`, README "Collision-free IK", with the sphere model and matrix files
    `spheres` and `matrix`, default the built-in arm's shipped ones).

    Progress goes through Python's sys.stderr (so a notebook shows it): a bar when the process's
    stderr is a terminal, otherwise one line per epoch and a line every 30 s. Ctrl-C (SIGINT) or
    SIGTERM saves a checkpoint (checkpoint, default OUTPUT.ckpt) and raises KeyboardInterrupt,
    leaving no model file, as the command; the same call with resume=True continues.
    Loads libtorch (deepik._learn) on first use. Raises deepik.InputError / ValueError for bad
    options or data, with the command's messages.
    """
    from . import _learn  # libtorch: only when training

    _learn.train(output, arm=arm, data=data, base=base, tip=tip, sampler=sampler, count=count, step=step,
                 step_m=step_m, margin=margin, data_seed=data_seed, train_fraction=train_fraction,
                 validation_fraction=validation_fraction, depth=depth, width=width, activation=activation,
                 head=head, sincos=sincos, newton_steps=newton_steps, loss=loss, epochs=epochs, batch=batch, lr=lr,
                 final_lr_fraction=final_lr_fraction, patience=patience, checkpoint_every=checkpoint_every,
                 time_limit=time_limit, seed=seed, threads=threads, eval_samples=eval_samples,
                 checkpoint=checkpoint, log=log, resume=resume, heads=heads,
                 other_heads_weight=other_heads_weight, target=target, angle_weight=angle_weight,
                 collision_weight=collision_weight, spheres=spheres, matrix=matrix)
    return Model(output)
