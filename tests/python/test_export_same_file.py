"""Model.export_onnx never writes over the model's own file (issue 26, point 10): the file it was
loaded from, named directly, by another relative or absolute path, through a symbolic link or a
hard link, is refused with deepik.InputError before anything is written, and the model file keeps
its bytes. The file is remembered as it was named at load, so a later change of the working folder
neither hides it nor refuses a different file of the same name."""

import os
import shutil

import pytest

import deepik


@pytest.fixture
def model_copy(tmp_path, seed_model):
    path = tmp_path / "m.safetensors"
    shutil.copyfile(seed_model, path)
    return path


def test_export_onnx_refuses_the_models_own_file(tmp_path, model_copy, monkeypatch):
    original = model_copy.read_bytes()
    (tmp_path / "link.safetensors").symlink_to(model_copy)
    os.link(model_copy, tmp_path / "hard.safetensors")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    model = deepik.Model("m.safetensors")  # a relative name
    same = ["m.safetensors", str(model_copy), "link.safetensors", "hard.safetensors", "sub/../m.safetensors"]
    for path in same:
        with pytest.raises(deepik.InputError, match=r"is the same file as the Model's file .*m\.safetensors: "
                                                    r"writing it would destroy the input"):
            model.export_onnx(path)
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(deepik.InputError, match="same file"):
        model.export_onnx("../link.safetensors")
    assert model_copy.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.safetensors", "link.safetensors", "m.safetensors", "sub"]
    assert deepik.Solver(deepik.Model(str(model_copy)), "network").solve([0.5, 0.2, 1.0]).q.shape == (4,)


def test_export_onnx_writes_another_file_of_the_same_name(tmp_path, model_copy, monkeypatch):
    """The remembered path is absolute: in another folder, "m.safetensors" is another file."""
    monkeypatch.chdir(tmp_path)
    model = deepik.Model("m.safetensors")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out")
    try:
        model.export_onnx("m.safetensors")
    except deepik.InputError as e:
        assert "without ONNX support" in str(e)
        pytest.skip("built without ONNX support")
    written = (tmp_path / "out" / "m.safetensors").read_bytes()
    assert written != model_copy.read_bytes() and len(written) > 1000
