"""Training from Python: the command's options as keyword arguments, its errors, and Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import deepik


def test_train_and_solve(tmp_path):
    path = str(tmp_path / "m.safetensors")
    model = deepik.train(path, arm="planar2", count=3000, depth=2, width=32, epochs=3, batch=128, lr=3e-3,
                         eval_samples=200, threads=1, seed=5)
    assert os.path.exists(path) and os.path.exists(path + ".log.csv")
    assert model.network == {"depth": 2, "width": 32, "activation": "relu", "head": "bounded",
                             "periodic_sincos": True}
    result = deepik.Solver(model, "refined").solve(model.arm.fk(np.zeros((3, 2)) + 0.3)[:, :3])
    assert np.all(result.status == "converged")


def test_multi_head_model(tmp_path):
    model = deepik.train(str(tmp_path / "h.safetensors"), arm="seed", count=3000, depth=2, width=32, epochs=2,
                         eval_samples=100, threads=1, seed=5, heads=3)
    assert model.network["heads"] == 3
    targets = model.arm.fk(np.zeros((2, 4)) + 0.4)[:, :3]
    result = deepik.Solver(model, "refined").solve(targets)
    assert np.all(result.status == "converged")
    with pytest.raises(ValueError, match="heads: expected 1..64, got 0"):
        deepik.train(str(tmp_path / "bad.safetensors"), arm="seed", heads=0)
    assert not os.path.exists(tmp_path / "bad.safetensors")


def test_pose_model_with_the_collision_penalty(tmp_path):
    """target="pose" and collision_weight as the command's --target pose --collision-weight: the
    model is a pose model, its file records the weight, and an arm without geometry is refused
    naming the option, as the command refuses it."""
    import json

    path = str(tmp_path / "c.safetensors")
    model = deepik.train(path, arm="panda", target="pose", count=2000, epochs=1, depth=2, width=16, threads=1,
                         eval_samples=200, collision_weight=0.5)
    assert model.arm.dof == 7
    training = json.loads(model.metadata("training"))
    assert training["collision_weight"] == 0.5 and training["collision_sphere_pairs"] == 320
    q = np.full((1, 7), 0.1)
    pose = model.arm.fk(q)
    result = deepik.Solver(model, "refined").solve(pose)
    assert result.status[0] == "converged"
    with pytest.raises(deepik.InputError, match="--collision-weight: arm 'seed' has no collision geometry"):
        deepik.train(str(tmp_path / "s.safetensors"), arm="seed", count=500, collision_weight=1.0)
    assert not os.path.exists(tmp_path / "s.safetensors")


def test_dataset_then_train(tmp_path):
    data = str(tmp_path / "d.safetensors")
    sizes = deepik.make_dataset(deepik.Arm("planar2"), data, sampler="joints", count=1000, data_seed=3)
    assert sizes["train"] == 800 and sizes["validation"] == 100 and sizes["test"] == 100
    model = deepik.train(str(tmp_path / "m.safetensors"), data=data, depth=1, width=8, epochs=1,
                         eval_samples=50, threads=1)
    assert model.arm.name == "planar2"


def test_bad_options_give_the_commands_messages(tmp_path):
    with pytest.raises(ValueError, match="expected fk, mse or limit"):
        deepik.train(str(tmp_path / "m.safetensors"), arm="seed", loss="magic")
    with pytest.raises(deepik.InputError, match="give an ARM to sample data from, or --data FILE"):
        deepik.train(str(tmp_path / "m.safetensors"))
    with pytest.raises(ValueError, match="activation"):
        deepik.train(str(tmp_path / "m.safetensors"), arm="seed", activation="gelu")


def test_progress_goes_to_pythons_stderr(tmp_path, monkeypatch):
    """Progress is written through sys.stderr (so a notebook shows it), not to file descriptor 2."""
    import io

    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    deepik.train(str(tmp_path / "m.safetensors"), arm="planar2", count=1000, depth=1, width=8, epochs=2,
                 eval_samples=50, threads=1)
    text = captured.getvalue()
    assert "train: sampling workspace data for planar2" in text, text
    assert "epoch 1/2" in text and "epoch 2/2" in text, text
    assert "after 2 epochs" in text and "train: saved " in text, text


def test_ctrl_c_saves_a_checkpoint(tmp_path):
    path = str(tmp_path / "m.safetensors")
    script = (f"import deepik\ndeepik.train({path!r}, arm='seed', count=20000, depth=2, width=64, epochs=100000, "
              "batch=64, eval_samples=100, threads=1, checkpoint_every=20)\n")
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ))
    deadline = time.time() + 60
    while not os.path.exists(path + ".ckpt") and time.time() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "KeyboardInterrupt: training interrupted; checkpoint saved to " + path + ".ckpt" in stderr, stderr
    assert "train: interrupted; checkpoint saved to" in stderr, stderr  # the command's own line
    assert not os.path.exists(path)  # as the command: no model file, the checkpoint kept
    assert os.path.getsize(path + ".ckpt") > 0


def test_python_defaults_are_the_commands():
    """deepik.train spells its defaults out for help(); they must be the C++ options' defaults,
    which deepik._learn.train's signature shows."""
    import inspect
    import re

    from deepik import _learn

    signature = _learn.train.__doc__.splitlines()[0]
    cpp = dict(re.findall(r"(\w+): \w+ = ([^,)]+)", signature))
    python = {name: p.default for name, p in inspect.signature(deepik.train).parameters.items()
              if p.default is not inspect.Parameter.empty}
    assert set(cpp) == set(python)
    for name, text in cpp.items():
        value = text.strip("'")
        expected = python[name]
        if isinstance(expected, bool):
            assert value == str(expected), name
        elif isinstance(expected, (int, float)):
            assert float(value) == float(expected), name
        else:
            assert value == expected, name
