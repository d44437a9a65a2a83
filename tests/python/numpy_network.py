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
    columns, pairs, column = [], [], 0
    for j, joint in enumerate(joints):
        lower, upper = np.float32(joint["lower"]), np.float32(joint["upper"])
        lower = np.nextafter(lower, np.float32(np.inf)) if lower < joint["lower"] else lower  # rounded inwards
        upper = np.nextafter(upper, np.float32(-np.inf)) if upper > joint["upper"] else upper
        full_turn = joint["type"] == "revolute" and (
            joint.get("continuous", False) or joint["upper"] - joint["lower"] >= 2 * np.pi - 1e-9)
        columns.append(column)
        pairs.append(network["periodic_sincos"] and full_turn)
        if pairs[-1]:
            q[:, j] = np.clip(np.arctan2(z[:, column], z[:, column + 1]), lower, upper)
            column += 2
        elif network["head"] == "bounded":
            q[:, j] = np.clip(lower + (upper - lower) / (1 + np.exp(-z[:, column])), lower, upper)
            column += 1
        else:
            q[:, j] = z[:, column]
            column += 1
    return q, z, columns, pairs
