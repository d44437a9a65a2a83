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


def forward(path, targets):
    """(joint values (n, dof), raw outputs (n, k), the raw column of each joint and whether it is a
    (sin, cos) pair) for targets (n, 3) in m, as IkModel::Predict: the targets rounded to float32,
    the layers in float64 on the float32 weights, the head in float32."""
    tensors, metadata = load(path)
    tensors = {name: t.astype(np.float64) for name, t in tensors.items()}
    network = json.loads(metadata["network"])
    joints = json.loads(metadata["arm"])["joints"]
    x = (targets.astype(np.float32).astype(np.float64) - tensors["input_mean"]) / tensors["input_std"]
    for k in range(network["depth"]):
        x = x @ tensors[f"hidden.{k}.weight"].T + tensors[f"hidden.{k}.bias"]
        x = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, "silu": lambda v: v / (1 + np.exp(-v))}[
            network["activation"]](x)
    z = (x @ tensors["out.weight"].T + tensors["out.bias"]).astype(np.float32)
    q = np.empty((len(targets), len(joints)), dtype=np.float32)
    columns, pairs, column, lowers, uppers = [], [], 0, [], []
    for j, joint in enumerate(joints):
        lower, upper = np.float32(joint["lower"]), np.float32(joint["upper"])
        lower = np.nextafter(lower, np.float32(np.inf)) if lower < joint["lower"] else lower  # rounded inwards
        upper = np.nextafter(upper, np.float32(-np.inf)) if upper > joint["upper"] else upper
        lowers.append(lower)
        uppers.append(upper)
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
    arm = json.loads(metadata["arm"])
    q64 = q.astype(np.float64)
    limits = (np.array(lowers, dtype=np.float64), np.array(uppers, dtype=np.float64))
    for _ in range(network.get("newton_steps", 0)):
        q64 = newton_step(arm, q64, targets.astype(np.float32).astype(np.float64), limits)
    return (q64 if network.get("newton_steps", 0) else q), z, columns, pairs


def frame(entry):
    return np.array(entry["R"], dtype=np.float64).reshape(3, 3), np.array(entry["xyz"], dtype=np.float64)


def newton_step(arm, q, targets, limits, damping=1e-3):
    """One of the Newton steps that end a position model's forward pass (network "newton_steps"):
    the tip position and its Jacobian by a walk of the chain from the file's arm description, then
    dq = J^T (J J^T + (damping^2 + |e|^2) I)^-1 e, e = target - p, the wrap of full-turn joints and the clamp to
    `limits` (the head's float32 limits, rounded inwards)."""
    n, dof = q.shape
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
    tip = p + R @ pt
    J = np.stack([np.cross(axes[j], tip - origins[j]) if joint["type"] == "revolute" else axes[j]
                  for j, joint in enumerate(arm["joints"])], axis=2)
    e = targets - tip
    M = J @ J.transpose(0, 2, 1) + (damping ** 2 + (e * e).sum(axis=1))[:, None, None] * np.eye(3)
    stepped = q + (J.transpose(0, 2, 1) @ np.linalg.solve(M, e[:, :, None]))[:, :, 0]
    for j, joint in enumerate(arm["joints"]):
        if full_turn(joint):
            v = stepped[:, j]
            outside = (v < joint["lower"]) | (v > joint["upper"])
            wrapped = joint["lower"] + np.fmod(np.fmod(v - joint["lower"], 2 * np.pi) + 2 * np.pi, 2 * np.pi)
            stepped[:, j] = np.where(outside, wrapped, v)
        stepped[:, j] = np.clip(stepped[:, j], limits[0][j], limits[1][j])
    return stepped
