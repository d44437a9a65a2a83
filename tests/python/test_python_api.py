"""The Python module against the command line and against the mathematics: FK equals `deepik fk`,
solve equals `deepik solve`, FK->IK->FK round trips, bad input raises clear errors, float64 input
is read in place."""

import tracemalloc

import numpy as np
import pytest

import deepik
from conftest import read_csv, run, write_csv


def random_q(arm, n, seed):
    return np.random.default_rng(seed).uniform(arm.lower, arm.upper, (n, arm.dof))


@pytest.mark.parametrize("name", ["seed", "panda", "ur5"])
def test_fk_equals_cli(name, cli, tmp_path):
    arm = deepik.Arm(name)
    q = random_q(arm, 200, 1)
    write_csv(tmp_path / "q.csv", arm.joint_names, q)
    done = run(cli, "fk", name, "-i", tmp_path / "q.csv", "-o", tmp_path / "p.csv")
    assert done.returncode == 0, done.stderr
    names, rows = read_csv(tmp_path / "p.csv")
    assert names == ["x", "y", "z", "qw", "qx", "qy", "qz"]
    expected = np.array(rows, dtype=float)
    poses = arm.fk(q)
    assert poses.shape == (200, 7) and poses.dtype == np.float64
    np.testing.assert_array_equal(poses, expected)  # the CLI prints round-trip exact digits
    np.testing.assert_array_equal(arm.fk(q[3]), expected[3])


def test_arm_from_urdf_and_dh_files(source_dir):
    urdf = source_dir / "robots" / "panda.urdf"
    if urdf.exists():
        arm = deepik.Arm(str(urdf))
        assert arm.dof == 7
    with pytest.raises(deepik.InputError, match="no_such.urdf"):
        deepik.Arm("no_such.urdf")
    with pytest.raises(deepik.InputError):
        deepik.Arm("seed", base="a")  # --base on a built-in arm: the CLI's message
    joints = deepik.Arm("seed").joints
    assert joints[0]["type"] == "revolute" and joints[0]["lower"] == pytest.approx(-np.pi)


def test_solve_equals_cli_and_round_trips(seed_model, cli, tmp_path):
    model = deepik.Model(seed_model)
    arm = model.arm
    targets = arm.fk(random_q(arm, 300, 2))[:, :3]
    write_csv(tmp_path / "t.csv", ["x", "y", "z"], targets)
    for name in ["network", "refined", "analytic"]:
        solver = deepik.Solver(model, name)
        result = solver.solve(targets, threads=2)
        assert result.q.shape == (300, arm.dof) and result.reached.shape == (300, 3)
        assert result.error.shape == (300,) and result.status.shape == (300,)
        done = run(cli, "solve", "--model", seed_model, "--solver", name, "-i", tmp_path / "t.csv", "-o",
                   tmp_path / "s.csv")
        assert done.returncode == 0, done.stderr
        names, rows = read_csv(tmp_path / "s.csv")
        assert names[: arm.dof] == arm.joint_names
        np.testing.assert_array_equal(result.q, np.array([r[: arm.dof] for r in rows], dtype=float))
        assert list(result.status) == [r[-1] for r in rows]
        # FK of the answer is the reached point, within the limits.
        np.testing.assert_allclose(arm.fk(result.q)[:, :3], result.reached, atol=1e-12)
        assert np.all(result.q >= arm.lower) and np.all(result.q <= arm.upper)
        if name != "network":
            assert np.all(result.status == "converged") and result.error.max() < 1e-6
            np.testing.assert_allclose(result.reached, targets, atol=1e-6)


def test_single_target_and_model_free_solvers(seed_model):
    arm = deepik.Arm("seed")
    target = arm.fk(np.array([0.3, 0.2, -0.4, 0.5]))[:3]
    one = deepik.Solver(deepik.Model(seed_model), "refined").solve(target)
    assert one.q.shape == (4,) and one.status == "converged" and isinstance(one.error, float)
    for name in ["analytic", "kdl-lma"]:
        result = deepik.Solver(arm, name).solve(np.array([target, target]))
        assert result.error.max() < 1e-5, name
    with pytest.raises(deepik.InputError, match="needs a model"):
        deepik.Solver(arm, "network")
    with pytest.raises(deepik.InputError, match="expected one of"):
        deepik.Solver(deepik.Model(seed_model), "magic")
    assert set(deepik.solver_names()) >= {"network", "refined", "analytic", "kdl-nr", "kdl-lma"}


def test_threads_give_the_same_answers(seed_model):
    solver = deepik.Solver(deepik.Model(seed_model), "refined")
    targets = np.random.default_rng(3).uniform(-1.5, 1.5, (500, 3))
    np.testing.assert_array_equal(solver.solve(targets, threads=1).q, solver.solve(targets, threads=2).q)
    with pytest.raises(ValueError, match=r"threads: expected a whole number in \[1, 256\], got 0"):
        solver.solve(targets, threads=0)


def test_bad_input_raises_clear_errors(seed_model):
    solver = deepik.Solver(deepik.Model(seed_model), "network")
    arm = solver.arm
    with pytest.raises(ValueError, match=r"targets: expected shape \(n, 3\), \(n, 7\), \(3,\) or \(7,\), got \(4, 2\)"):
        solver.solve(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"got \(2, 3, 1\)"):
        solver.solve(np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="row 1, column 2: expected a finite number, got nan"):
        solver.solve(np.array([[0.1, 0.2, 0.3], [0.1, 0.2, np.nan]]))
    with pytest.raises(ValueError, match="row 0, column 0: expected a value within"):
        solver.solve(np.array([[1e5, 0, 0]]))
    with pytest.raises(TypeError, match="expected real numbers .* got dtype <U"):
        solver.solve(np.array([["a", "b", "c"]]))
    with pytest.raises(TypeError, match="got dtype complex128"):
        solver.solve(np.zeros((2, 3), dtype=complex))
    with pytest.raises(ValueError, match=r"targets: row 1: expected a unit quaternion .* got norm 2"):
        solver.solve(np.array([[0.1, 0.2, 0.3, 1, 0, 0, 0], [0.1, 0.2, 0.3, 2, 0, 0, 0]]))
    with pytest.raises(ValueError, match=r"q: expected shape \(n, 4\) or \(4,\), got \(5, 3\)"):
        arm.fk(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="q: row 0, column 1: expected a finite number, got inf"):
        arm.fk(np.array([[0, np.inf, 0, 0]]))
    with pytest.raises(deepik.InputError, match="missing.safetensors"):
        deepik.Model("missing.safetensors")
    # Other real dtypes and nested lists are converted.
    np.testing.assert_array_equal(arm.fk(np.zeros((2, 4), dtype=np.float32)), arm.fk(np.zeros((2, 4))))
    np.testing.assert_array_equal(arm.fk([[0, 0, 0, 0]]), arm.fk(np.zeros((1, 4))))


def test_float64_input_is_read_in_place():
    arm = deepik.Arm("seed")
    q = random_q(arm, 200_000, 4)  # 6.4 MB of float64
    strided = np.asfortranarray(q)  # not C-contiguous: still read where it lies
    for array in (q, strided, q[::2]):
        tracemalloc.start()
        poses = arm.fk(array)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # The output (n x 7 float64) and no copy of the input beside it.
        assert peak < poses.nbytes + array.shape[0] * array.shape[1] * 8 // 2, peak
    np.testing.assert_array_equal(arm.fk(strided[:100]), arm.fk(q[:100]))


def test_solve_reads_a_large_float64_array_in_place():
    """A large C-contiguous float64 array (and a strided view of one) is read where it lies: the
    peak of new memory is the results alone, not a copy of the targets beside them."""
    solver = deepik.Solver(deepik.Arm("seed"), "analytic")
    targets = np.random.default_rng(5).uniform(-0.5, 0.5, (300_000, 3))  # 7.2 MB of float64
    assert targets.flags.c_contiguous
    for array in (targets, targets[::2], np.asfortranarray(targets)):
        tracemalloc.start()
        result = solver.solve(array)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        outputs = sum(getattr(result, name).nbytes for name in
                      ("q", "reached", "reached_quat", "error", "angle_error", "status", "iterations"))
        assert peak < outputs + array.nbytes // 2, (peak, outputs, array.nbytes)
    # float32 is converted (a copy), with the same answers as the float64 of the same values.
    small = targets[:100].astype(np.float32)
    np.testing.assert_array_equal(solver.solve(small).q, solver.solve(small.astype(np.float64)).q)


def test_tolerances_and_bounds_as_the_cli(cli, tmp_path):
    arm = deepik.Arm("panda")
    poses = arm.fk(random_q(arm, 20, 12))
    # A loose position tolerance stops early (within it, not at 1e-9); a bad one is refused.
    loose = deepik.Solver(arm, "lm", position_tolerance=1e-3, timeout=1.0).solve(poses[:, :3])
    assert np.all(loose.status == "converged") and loose.error.max() <= 1e-3 and loose.error.max() > 1e-9
    for name, value in [("position_tolerance", 0.0), ("angle_tolerance", 2.0), ("timeout", -1.0)]:
        with pytest.raises(ValueError, match=name + r": expected a number in \[.*\], got "):
            deepik.Solver(arm, "lm", **{name: value})
    # Bounds: rz=free accepts any turn about the target tool's z axis. Turn each target's
    # orientation about its own z: still converged, the position exact, the tool's z axis kept.
    turned = poses.copy()
    for i, quat in enumerate(poses[:, 3:]):
        w, x, y, z = quat
        c, s = np.cos(0.4), np.sin(0.4)  # quat * (cos 0.4, 0, 0, sin 0.4): a 0.8 rad turn about z
        turned[i, 3:] = [w * c - z * s, x * c + y * s, y * c - x * s, z * c + w * s]
    solver = deepik.Solver(arm, "lm", timeout=1.0)
    for bounds in ("rz=free", [0, 0, 0, 0, 0, np.inf]):
        result = solver.solve(turned, bounds=bounds)
        assert np.all(result.status == "converged"), result.status
        assert result.error.max() < 1e-8
        for i in range(len(turned)):
            tool_z = rotation_of(turned[i, 3:])[:, 2]
            assert np.dot(rotation_of(result.reached_quat[i])[:, 2], tool_z) > 1 - 1e-10
    exact = solver.solve(turned[:2], bounds=None)
    assert exact.angle_error.max() < 1e-8  # without bounds the turned orientation itself is reached
    # Bad bounds: the CLI's message for a text, a clear one for numbers.
    write_csv(tmp_path / "p.csv", ["x", "y", "z", "qw", "qx", "qy", "qz"], poses[:1])
    done = run(cli, "solve", "--arm", "panda", "--solver", "lm", "--bounds", "q=1", "-i", tmp_path / "p.csv",
               "-o", tmp_path / "s.csv")
    assert done.returncode != 0
    message = done.stderr.strip().splitlines()[-1].split("error: ", 1)[1]
    with pytest.raises(deepik.InputError) as raised:
        solver.solve(poses[:1], bounds="q=1")
    assert str(raised.value) == message
    with pytest.raises(ValueError, match=r"bounds: item 2: expected a number >= 0 \(inf: free\), got -1"):
        solver.solve(poses[:1], bounds=[0, 0, -1, 0, 0, 0])
    with pytest.raises(ValueError, match="bounds: expected a text such as 'rz=free' or 6 numbers"):
        solver.solve(poses[:1], bounds=[0, 0])


def test_solver_takes_a_model_or_an_arm(seed_model):
    assert deepik.Solver(deepik.Model(seed_model)).name == "refined"
    assert deepik.Solver(deepik.Arm("seed")).name == "lm"
    with pytest.raises(TypeError, match="Solver: expected a deepik.Model or a deepik.Arm, got str"):
        deepik.Solver("seed")


def test_help_says_units_frames_and_shapes():
    """help() of every entry point says shapes, dtypes, units and frames."""
    import pydoc

    def text(thing):
        return pydoc.render_doc(thing, renderer=pydoc.plaintext)

    solver = text(deepik.Solver)
    for words in ["(n, 3)", "(n, 7)", "(n, dof)", "float64", " m", "rad", "base frame", "qw, qx, qy, qz",
                  "w first", "GIL", "threads", "bounds", "position_tolerance", "int32"]:
        assert words in solver, words
    arm = text(deepik.Arm)
    for words in ["(n, dof)", "(n, 7)", "rad", " m", "base frame", "w first", "float64", "(dof,)"]:
        assert words in arm, words
    for words in ["(n, 3)", "base frame", "rad or m"]:
        assert words in text(deepik.Model), words
    for words in ["(n, dof)", "(n, 3)", "int32", "rad", "m"]:
        assert words in text(deepik.SolveResults), words
    for words in ["rad or m", "base frame", "deg", "train", "validation"]:
        assert words in text(deepik.make_dataset), words
    for words in ["stderr", "KeyboardInterrupt", "checkpoint", "time_limit (s)"]:
        assert words in text(deepik.train), words


def test_type_stubs_cover_the_module():
    """deepik/_core.pyi (installed beside the module) declares every public name of deepik._core
    with the same parameters."""
    import ast
    import inspect
    import pathlib
    import re

    from deepik import _core

    stub = ast.parse((pathlib.Path(_core.__file__).parent / "_core.pyi").read_text())
    declared = {node.name: node for node in stub.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    public = {name for name in dir(_core) if not name.startswith("_")}
    assert public <= set(declared), public - set(declared)
    for name in ["Arm", "Model", "Solver"]:
        methods = {n.name: n for n in declared[name].body if isinstance(n, ast.FunctionDef)}
        for method in ["__init__"] + (["solve"] if name == "Solver" else []):
            runtime = getattr(getattr(_core, name), method)
            # pybind11 puts the signature on the docstring's first line(s): "solve(self: ..., targets: object, ...)"
            runtime_names = re.findall(r"(\w+): ", runtime.__doc__.split(")")[0] + ")")
            stub_names = [a.arg for a in methods[method].args.args]
            assert stub_names == runtime_names, (name, method, stub_names, runtime_names)


def rotation_of(quat):
    """Rotation matrix of a unit quaternion [w, x, y, z] (an independent route from Eigen's)."""
    w, x, y, z = quat
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def test_pose_targets_round_trip_with_the_model_free_solver():
    """FK -> solve (n, 7) poses, both quaternion signs -> FK: position and angle within tolerance,
    the angle recomputed here from the rotation matrices' trace."""
    arm = deepik.Arm("panda")
    q_true = random_q(arm, 40, 11)
    poses = arm.fk(q_true)
    poses[1::2, 3:] *= -1  # the other sign of the same orientation
    solver = deepik.Solver(arm, timeout=1.0)  # lm, no model; a budget no load can exhaust
    assert solver.name == "lm"
    result = solver.solve(poses)
    assert result.q.shape == (40, arm.dof) and result.reached_quat.shape == (40, 4)
    assert np.all(result.status == "converged"), result.status
    reached = arm.fk(result.q)
    np.testing.assert_allclose(reached[:, :3], poses[:, :3], atol=1e-8)
    np.testing.assert_allclose(reached[:, 3:], result.reached_quat, atol=1e-12)
    for i in range(40):
        r = rotation_of(poses[i, 3:]).T @ rotation_of(reached[i, 3:])
        angle = np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1))
        assert angle < 1e-6 and abs(angle - result.angle_error[i]) < 1e-7
    # Position targets on the same solver: angle_error is NaN.
    positions = solver.solve(poses[:3, :3])
    assert np.all(np.isnan(positions.angle_error)) and positions.error.max() < 1e-8
    one = solver.solve(poses[0])
    assert one.q.shape == (arm.dof,) and isinstance(one.angle_error, float) and one.angle_error < 1e-6


def test_big_endian_and_other_byte_orders_are_converted(seed_model):
    """'>f8' arrays hold the same numbers in the other byte order: the answers must be those of the
    native array (read as native bytes they were silently wrong)."""
    arm = deepik.Arm("panda")
    q = random_q(arm, 50, 21)
    swapped = q.astype(">f8")
    assert not swapped.dtype.isnative and np.array_equal(swapped, q)
    np.testing.assert_array_equal(arm.fk(swapped), arm.fk(q))
    np.testing.assert_array_equal(arm.fk(q[0].astype(">f8")), arm.fk(q[0]))
    np.testing.assert_array_equal(arm.fk(q.astype(">f4")), arm.fk(q.astype(np.float32)))
    solver = deepik.Solver(deepik.Model(seed_model), "refined")
    targets = deepik.Arm("seed").fk(random_q(deepik.Arm("seed"), 30, 22))[:, :3]
    np.testing.assert_array_equal(solver.solve(targets.astype(">f8")).q, solver.solve(targets).q)
    np.testing.assert_array_equal(solver.solve(targets.astype(">i8")).q, solver.solve(targets.astype(np.int64)).q)


INTERRUPTED_CALL = """
import sys, time
import numpy as np
import deepik
call = sys.argv[1]
arm = deepik.Arm("panda")
rng = np.random.default_rng(5)
if call == "fk":
    q = np.broadcast_to(rng.uniform(arm.lower, arm.upper, arm.dof), (6_000_000, arm.dof))
    work = lambda: arm.fk(q)
else:
    poses = arm.fk(rng.uniform(arm.lower, arm.upper, (200_000, arm.dof)))
    solver = deepik.Solver(arm, "lm", timeout=0.05)
    work = lambda: solver.solve(poses)
print("started", flush=True)
try:
    work()
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
"""


@pytest.mark.parametrize("call", ["fk", "solve"])
def test_ctrl_c_stops_a_long_call_promptly(call, tmp_path):
    """The GIL is released during fk and solve; Python's signal handlers still run between blocks
    of work, so that Ctrl-C (SIGINT) ends a long call within a fraction of a second (8-30 s before)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "long_call.py"
    script.write_text(INTERRUPTED_CALL)
    process = subprocess.Popen([sys.executable, str(script), call], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=os.environ.copy())
    assert process.stdout.readline().strip() == "started"
    time.sleep(0.5)  # well into the call, which takes several seconds
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    words = out.split()
    assert words[:1] == ["interrupted"], (out, err)
    assert float(words[1]) - sent < 1.0, "KeyboardInterrupt came %.2f s after SIGINT" % (float(words[1]) - sent)
