"""The README's examples run as written: "Using deepik from Python" (its Python block saved as
example.py and run by its shell line) and "Exporting a model" (the shell block, then the NumPy
reader, whose answer must equal `deepik solve --solver network`'s within 1e-5). They run in a
scratch folder where build/, models/, tests/ and web/ point into the tree."""

import os
import pathlib
import re
import subprocess

import numpy as np

from conftest import read_csv


def blocks(section):
    readme = (pathlib.Path(os.environ["DEEPIK_SOURCE_DIR"]) / "README.md").read_text()
    start = readme.index(f"\n## {section}\n")
    end = readme.find("\n## ", start + 1)
    return re.findall(r"```(\w+)\n(.*?)```", readme[start:end], re.S)


def scratch(tmp_path):
    source = pathlib.Path(os.environ["DEEPIK_SOURCE_DIR"])
    (tmp_path / "build").symlink_to(os.environ["DEEPIK_BUILD_DIR"])
    for name in ["models", "tests", "web", "robots"]:
        (tmp_path / name).symlink_to(source / name)
    return tmp_path


def run_shell(script, cwd):
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done.stdout


def test_using_deepik_from_python(tmp_path):
    cwd = scratch(tmp_path)
    found = blocks("Using deepik from Python")
    shell = [code for lang, code in found if lang == "sh"]
    python = [code for lang, code in found if lang == "python"]
    assert len(shell) == 1 and len(python) == 1
    (cwd / "example.py").write_text(python[0])
    out = run_shell(shell[0], cwd)
    assert "converged" in out and (cwd / "planar2.safetensors").exists()


def test_exporting_a_model(tmp_path):
    cwd = scratch(tmp_path)
    found = blocks("Exporting a model")
    assert [lang for lang, _ in found] == ["sh", "python"]
    run_shell(found[0][1], cwd)
    onnx_rows = np.loadtxt(cwd / "joints.csv", delimiter=",", ndmin=2)
    _, rows = read_csv(cwd / "solved.csv")
    solved = np.array([r[: onnx_rows.shape[1]] for r in rows], dtype=float)
    np.testing.assert_allclose(onnx_rows, solved, atol=1e-5, rtol=0)
    namespace = {}
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        exec(found[1][1], namespace)
    finally:
        os.chdir(previous)
    np.testing.assert_allclose(np.array(namespace["q"], dtype=float), solved[0], atol=1e-5, rtol=0)
