"""A deepik model file read and run with NumPy alone (no deepik): the proof that the file stays
readable without deepik, and a third implementation of the network for the export tests. The
README's "Exporting a model" shows the same steps in short."""

import json
import struct

import numpy as np


def load(path):
    """(tensors as float32 arrays, metadata dict) of a safetensors file."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
    return tensors, metadata


def full_turn(joint):
    """IsFullTurn: a revolute joint whose range is a whole turn (or continuous)."""
    return joint["type"] == "revolute" and (
        joint.get("continuous", False) or joint["upper"] - joint["lower"] >= 2 * np.pi - 1e-9)


def head_joints(z, joints, network):
    """IkModel::HeadJoints: joint values (n, dof) float32 from one head's raw outputs z (n, k)
    (float32), with the raw column of each joint and whether it is a (sin, cos) pair, and the
    float32 limits rounded inwards. With Newton steps ("newton_steps" > 0) the head is in float64
    (on the float32 z), as IkModel computes it then."""
    wide = network.get("newton_steps", 0) > 0
    q = np.empty((len(z), len(joints)), dtype=np.float64 if wide else np.float32)
    if wide:
        z = z.astype(np.float64)
    columns, pairs, column, lowers, uppers = [], [], 0, [], []
    for j, joint in enumerate(joints):
        lower, upper = np.float32(joint["lower"]), np.float32(joint["upper"])
        lower = np.nextafter(lower, np.float32(np.inf)) if lower < joint["lower"] else lower  # rounded inwards
        upper = np.nextafter(upper, np.float32(-np.inf)) if upper > joint["upper"] else upper
        lowers.append(lower)
        uppers.append(upper)
        if wide:
            lower, upper = np.float64(lower), np.float64(upper)
        columns.append(column)
        pairs.append(network["periodic_sincos"] and full_turn(joint))
        if pairs[-1]:
            q[:, j] = np.clip(np.arctan2(z[:, column], z[:, column + 1]), lower, upper)
            column += 2
        elif network["head"] == "bounded":
            q[:, j] = np.clip(lower + (upper - lower) / (1 + np.exp(-z[:, column])), lower, upper)
            column += 1
        else:
            q[:, j] = z[:, column]
            column += 1
    limits = (np.array(lowers, dtype=np.float64), np.array(uppers, dtype=np.float64))
    return q, columns, pairs, limits, column


def read_target(targets):
    """IkModel's reading of targets (n, 3) positions or (n, 9) poses (position, then the first two
    columns of R_BT), rounded to float32: (positions (n, 3), rotations (n, 3, 3) or None), each
    rotation made orthonormal from its two columns (Gram-Schmidt)."""
    t = targets.astype(np.float32).astype(np.float64)
    if t.shape[1] == 3:
        return t, None
    c0 = t[:, 3:6] / np.linalg.norm(t[:, 3:6], axis=1, keepdims=True)
    u = t[:, 6:9] - (c0 * t[:, 6:9]).sum(axis=1, keepdims=True) * c0
    c1 = u / np.linalg.norm(u, axis=1, keepdims=True)
    return t[:, :3], np.stack([c0, c1, np.cross(c0, c1)], axis=2)


def forward(path, targets):
    """(joint values (n, dof), raw outputs (n, k) of the answered head, the raw column of each joint
    and whether it is a (sin, cos) pair) for targets (n, 3) positions in m or (n, 9) poses (the
    network's input: position, then the first two columns of R_BT), as IkModel::Predict: the
    targets rounded to float32, the layers in float64 on the float32 weights, the head in float32,
    for a multi-head model the head closest to the target, then the Newton steps (with
    "newton_every_head": the steps on every head, then the choice)."""
    tensors, metadata = load(path)
    tensors = {name: t.astype(np.float64) for name, t in tensors.items()}
    network = json.loads(metadata["network"])
    arm = json.loads(metadata["arm"])
    joints = arm["joints"]
    x = (targets.astype(np.float32).astype(np.float64) - tensors["input_mean"]) / tensors["input_std"]
    for k in range(network["depth"]):
        x = x @ tensors[f"hidden.{k}.weight"].T + tensors[f"hidden.{k}.bias"]
        x = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, "silu": lambda v: v / (1 + np.exp(-v))}[
            network["activation"]](x)
    z = (x @ tensors["out.weight"].T + tensors["out.bias"]).astype(np.float32)
    p, R = read_target(targets)
    heads = network.get("heads", 1)
    k = z.shape[1] // heads
    outputs = [head_joints(z[:, h * k:(h + 1) * k], joints, network) for h in range(heads)]
    _, columns, pairs, limits, _ = outputs[0]
    steps = network.get("newton_steps", 0)

    def stepped(q):
        q64 = q.astype(np.float64)
        for _ in range(steps):
            q64 = newton_step(arm, q64, p, limits) if R is None else pose_newton_step(arm, q64, p, R, limits)
        return q64 if steps else q

    # With "newton_every_head", every head takes the Newton steps before the choice.
    every_head = network.get("newton_every_head", False) and heads > 1 and steps > 0
    candidates = [stepped(o[0]) if every_head else o[0] for o in outputs]
    # The head whose FK is closest to the target (HeadSelectionError; NaN never): the first within
    # kHeadTie = 1e-5 m of the least.
    errors = np.stack([selection_error(arm, c.astype(np.float64), p, R) for c in candidates], axis=1)
    errors = np.where(np.isnan(errors), np.inf, errors)
    forward.head_errors = errors  # every head's HeadSelectionError (n, heads), for the tests
    best = (errors <= errors.min(axis=1, keepdims=True) + 1e-5).argmax(axis=1)
    rows = np.arange(len(targets))
    q = np.stack(candidates, axis=1)[rows, best]
    z = np.stack([z[:, h * k:(h + 1) * k] for h in range(heads)], axis=1)[rows, best]
    return (q if every_head else stepped(q)), z, columns, pairs


def frame(entry):
    return np.array(entry["R"], dtype=np.float64).reshape(3, 3), np.array(entry["xyz"], dtype=np.float64)


def walk(arm, q):
    """The chain walked for joint values q (n, dof): the tip rotations (n, 3, 3) and positions
    (n, 3), and each joint's axis and origin in the base frame."""
    n = len(q)
    R = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    p = np.zeros((n, 3))
    axes, origins = [], []
    for j, joint in enumerate(arm["joints"]):
        R0, p0 = frame(joint["origin"])
        p = p + R @ p0
        R = R @ R0
        a = np.array(joint["axis"], dtype=np.float64)
        axes.append(R @ a)
        origins.append(p.copy())
        if joint["type"] == "revolute":
            K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
            s, c = np.sin(q[:, j])[:, None, None], np.cos(q[:, j])[:, None, None]
            R = R @ (np.eye(3) + s * K + (1 - c) * (K @ K))
        else:
            p = p + axes[-1] * q[:, j:j + 1]
    Rt, pt = frame(arm["tip"])
    return R @ Rt, p + R @ pt, axes, origins


def rotation_log(M):
    """(rotation vectors (n, 3), angles (n,)) of rotations M (n, 3, 3): v = vee(M - M^T) / 2,
    angle = atan2(|v|, (tr M - 1) / 2), phi = v angle / |v|."""
    v = 0.5 * np.stack([M[:, 2, 1] - M[:, 1, 2], M[:, 0, 2] - M[:, 2, 0], M[:, 1, 0] - M[:, 0, 1]], axis=1)
    sine = np.linalg.norm(v, axis=1)
    angle = np.arctan2(sine, 0.5 * (np.trace(M, axis1=1, axis2=2) - 1))
    return v * np.where(sine > 0, angle / np.where(sine > 0, sine, 1), 1)[:, None], angle


def selection_error(arm, q, p, R, angle_weight=0.1):
    """HeadSelectionError: |FK(q) - p| (m), plus 0.1 m/rad x the angle between the rotations for poses."""
    R_tip, tip, _, _ = walk(arm, q)
    error = np.linalg.norm(tip - p, axis=1)
    return error if R is None else error + angle_weight * rotation_log(R_tip @ R.transpose(0, 2, 1))[1]


def into_limits(arm, stepped, limits):
    """internal::ProjectIntoLimits (full-turn joints wrap) and the clamp to the head's limits."""
    for j, joint in enumerate(arm["joints"]):
        if full_turn(joint):
            v = stepped[:, j]
            outside = (v < joint["lower"]) | (v > joint["upper"])
            wrapped = joint["lower"] + np.fmod(np.fmod(v - joint["lower"], 2 * np.pi) + 2 * np.pi, 2 * np.pi)
            stepped[:, j] = np.where(outside, wrapped, v)
        stepped[:, j] = np.clip(stepped[:, j], limits[0][j], limits[1][j])
    return stepped


def newton_step(arm, q, targets, limits, damping=1e-3):
    """One of the Newton steps that end a position model's forward pass (network "newton_steps"):
    the tip position and its Jacobian by a walk of the chain from the file's arm description, then
    dq = J^T (J J^T + (damping^2 + |e|^2) I)^-1 e, e = target - p, the wrap of full-turn joints and the clamp to
    `limits` (the head's float32 limits, rounded inwards)."""
    _, tip, axes, origins = walk(arm, q)
    J = np.stack([np.cross(axes[j], tip - origins[j]) if joint["type"] == "revolute" else axes[j]
                  for j, joint in enumerate(arm["joints"])], axis=2)
    e = targets - tip
    M = J @ J.transpose(0, 2, 1) + (damping ** 2 + (e * e).sum(axis=1))[:, None, None] * np.eye(3)
    return into_limits(arm, q + (J.transpose(0, 2, 1) @ np.linalg.solve(M, e[:, :, None]))[:, :, 0], limits)


def pose_newton_step(arm, q, p, R, limits, damping=1e-3, angle_weight=0.1):
    """A pose model's Newton step: the same on r = (p* - p, -a phi), phi = log(R_tip R*^T), with
    the weighted Jacobian (J_v; a Jl^-1(phi) J_w), Jl^-1 the inverse left Jacobian of SO(3)."""
    R_tip, tip, axes, origins = walk(arm, q)
    revolute = [joint["type"] == "revolute" for joint in arm["joints"]]
    J_v = np.stack([np.cross(axes[j], tip - origins[j]) if r else np.broadcast_to(axes[j], tip.shape)
                    for j, r in enumerate(revolute)], axis=2)
    J_w = np.stack([np.broadcast_to(axes[j], tip.shape) if r else np.zeros_like(tip)
                    for j, r in enumerate(revolute)], axis=2)
    phi, t = rotation_log(R_tip @ R.transpose(0, 2, 1))
    small = t < 1e-4
    t_safe = np.where(small, 1.0, t)
    c = np.where(small, 1 / 12 + t * t / 720, 1 / t_safe ** 2 - np.cos(t_safe / 2) / (2 * t_safe * np.sin(t_safe / 2)))
    phi_w = np.cross(phi[:, :, None], J_w, axis=1)
    J_r = J_w - 0.5 * phi_w + c[:, None, None] * np.cross(phi[:, :, None], phi_w, axis=1)
    J = np.concatenate([J_v, angle_weight * J_r], axis=1)
    r = np.concatenate([p - tip, -angle_weight * phi], axis=1)
    M = J @ J.transpose(0, 2, 1) + (damping ** 2 + (r * r).sum(axis=1))[:, None, None] * np.eye(6)
    return into_limits(arm, q + (J.transpose(0, 2, 1) @ np.linalg.solve(M, r[:, :, None]))[:, :, 0], limits)
