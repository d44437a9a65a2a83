"""deepik.solve (issue 23): collision-aware IK from Python with the semantics of `deepik solve
--collisions C --clearance M --scene FILE`. A target beside an obstacle is reached clear (FK of
the answer here, the exact self-collision check of deepik.collide, and the command's own answers
for the same targets); a target inside it is 'in collision'; a scene given as a dict
or as a path is the same scene; bad input is refused naming the field."""

import json

import numpy as np
import pytest

import deepik
from conftest import read_csv, run, write_csv

POST = {"obstacles": [{"name": "post", "shape": "box", "size": [0.1, 0.1, 0.6], "position": [0.5, 0.0, 0.3]}]}
BESIDE = np.array([[0.5, 0.17, 0.3], [0.5, 0.15, 0.45], [0.5, -0.16, 0.25]])  # 10-12 cm from its faces
INSIDE = np.array([[0.5, 0.0, 0.3], [0.5, 0.0, 0.55]])
CLEARANCE = 0.02
TIMEOUT = 0.5  # s per target: time enough, even on a loaded machine, that the seeded starts, not the clock, decide


def test_beside_an_obstacle_is_reached_clear_as_the_command_does(cli, tmp_path):
    result = deepik.solve("panda", BESIDE, scene=POST, clearance=CLEARANCE, timeout=TIMEOUT)
    assert result.collisions == "all"
    assert result.status.tolist() == ["converged"] * 3
    assert (result.min_distance > 0).all()  # the sphere model's distance: no overlap
    tip = deepik.Arm("panda").fk(result.q)[:, :3]
    np.testing.assert_allclose(tip, BESIDE, atol=1e-5)
    assert not deepik.collide("panda", result.q)["in_collision"].any()
    # The command, given the same scene as a file, answers the same way: the same statuses, its
    # joint values reaching the targets clear. (Not bit for bit: where a start ends in collision,
    # how long the solver repairs it depends on the time the starts took.)
    (tmp_path / "post.json").write_text(json.dumps(POST))
    write_csv(tmp_path / "t.csv", ["x", "y", "z"], BESIDE)
    done = run(cli, "solve", "--arm", "panda", "--collisions", "all", "--scene", tmp_path / "post.json",
               "--clearance", CLEARANCE, "--timeout", TIMEOUT * 1e3, "-i", tmp_path / "t.csv", "-o", tmp_path / "q.csv")
    assert done.returncode == 0, done.stderr
    names, rows = read_csv(tmp_path / "q.csv")
    assert [r[-1] for r in rows] == result.status.tolist()
    q_cli = np.array([[float(v) for v in r[:7]] for r in rows])
    np.testing.assert_allclose(deepik.Arm("panda").fk(q_cli)[:, :3], BESIDE, atol=1e-5)
    assert not deepik.collide("panda", q_cli)["in_collision"].any()
    # The scene as a path is the same scene.
    from_path = deepik.solve("panda", BESIDE, scene=tmp_path / "post.json", clearance=CLEARANCE, timeout=TIMEOUT)
    assert from_path.status.tolist() == result.status.tolist() and (from_path.min_distance > 0).all()
    np.testing.assert_allclose(deepik.Arm("panda").fk(from_path.q)[:, :3], BESIDE, atol=1e-5)


def test_inside_an_obstacle_is_in_collision():
    result = deepik.solve("panda", INSIDE, scene=POST, timeout=TIMEOUT)
    assert result.status.tolist() == ["in collision"] * 2
    assert (result.min_distance < 0).all()
    assert (result.error < 1e-5).all()  # reached, but only in collision
    # Without the scene the arm reaches them (the default: self-collision only).
    free = deepik.solve("panda", INSIDE, timeout=TIMEOUT)
    assert free.collisions == "self" and free.status.tolist() == ["converged"] * 2
    off = deepik.solve("panda", INSIDE[0], collisions="off")
    assert off.collisions == "off" and off.status == "converged" and np.isnan(off.min_distance)


def test_bad_input_names_the_field(tmp_path):
    def box(**fields):
        item = {"shape": "box", "size": [0.1, 0.1, 0.1], "position": [0.5, 0.0, 0.3]}
        item.update(fields)
        return {"obstacles": [item]}

    cases = [
        (dict(scene=box(size=[0.1, -0.1, 0.1])), "scene: obstacles[0].size[1]: expected a size > 0"),
        (dict(scene=box(shape="cone")), "unknown shape \"cone\""),
        (dict(scene=box(position=[float("nan"), 0, 0])), "scene: not a valid JSON scene file"),
        (dict(scene=box(position=["nan", 0, 0])), "scene: obstacles[0].position[0]: expected a number"),
        (dict(scene={"obstacles": [box()["obstacles"][0]] * 10001}), "obstacles: expected at most 10000"),
        (dict(scene=POST, collisions="self"), "scene: expected collisions='all'"),
        (dict(collisions="sideways"), "sideways"),
        (dict(collisions="self", solver="kdl-nr"), "collisions: expected solver lm or refined"),
        (dict(scene=tmp_path / "missing.json"), "cannot open the scene file"),
    ]
    for kwargs, words in cases:
        with pytest.raises(deepik.InputError, match=None) as caught:
            deepik.solve("panda", [0.4, 0.1, 0.4], **kwargs)
        assert words in str(caught.value), (kwargs.keys(), str(caught.value))
    with pytest.raises(deepik.InputError, match="the arm has no collision geometry"):
        deepik.solve("seed", [0.5, 0.2, 0.1], collisions="all")
    assert deepik.solve("seed", [0.5, 0.2, 0.1]).collisions == "off"  # the default where it cannot
    with pytest.raises(ValueError, match="clearance"):
        deepik.solve("panda", [0.4, 0.1, 0.4], clearance=-0.01)
    with pytest.raises(TypeError, match="scene: expected a dict or a path"):
        deepik.solve("panda", [0.4, 0.1, 0.4], scene=[1, 2])
