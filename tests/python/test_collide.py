"""deepik.collide against `deepik collide` on the same rows (exact and spheres, panda, ur5 and
iiwa14), the exact check against a hand-made case (a URDF of two boxes at known poses), and bad
input refused with the command's messages."""

import sys

import numpy as np
import pytest

import deepik
from conftest import read_csv, run, write_csv


def uniform_rows(arm, count, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(arm.lower, arm.upper, size=(count, arm.dof))


@pytest.mark.parametrize("name", ["panda", "ur5", "iiwa14"])
@pytest.mark.parametrize("model", ["exact", "spheres"])
def test_collide_equals_cli(name, model, cli, tmp_path):
    arm = deepik.Arm(name)
    q = uniform_rows(arm, 60, seed=11)
    write_csv(tmp_path / "q.csv", arm.joint_names, q)
    done = run(cli, "collide", name, "-i", tmp_path / "q.csv", "-o", tmp_path / "out.csv", "--model", model)
    assert done.returncode == 0, done.stderr
    names, rows = read_csv(tmp_path / "out.csv")
    assert names == ["in_collision", "min_distance", "link_a", "link_b"]
    result = deepik.collide(name, q, model=model)
    assert result["in_collision"].dtype == bool and result["min_distance"].shape == (60,)
    assert [int(r[0]) for r in rows] == result["in_collision"].astype(int).tolist()
    np.testing.assert_allclose(result["min_distance"], [float(r[1]) for r in rows], rtol=1e-12, atol=1e-15)
    assert result["link_a"] == [r[2] for r in rows] and result["link_b"] == [r[3] for r in rows]
    if name == "panda":  # rows of both kinds: both answers (colliding pair, closest pair) compared
        assert 0 < result["in_collision"].sum() < 60


TWO_BOXES = """<robot name="boxes">
  <link name="base"><collision><geometry><box size="0.2 0.2 0.2"/></geometry></collision></link>
  <link name="middle"><collision><origin xyz="0 0 1"/><geometry><sphere radius="0.01"/></geometry></collision></link>
  <link name="arm"><collision><origin xyz="0.5 0 0"/><geometry><box size="0.2 0.2 0.2"/></geometry></collision></link>
  <joint name="j1" type="revolute"><parent link="base"/><child link="middle"/><axis xyz="0 0 1"/>
    <limit lower="-3" upper="3" effort="1" velocity="1"/></joint>
  <joint name="j2" type="prismatic"><parent link="middle"/><child link="arm"/><axis xyz="1 0 0"/>
    <limit lower="-0.5" upper="0.5" effort="1" velocity="1"/></joint>
</robot>
"""


def test_collide_two_boxes_by_hand(tmp_path):
    # base: a 0.2 m cube at the origin; arm: the same cube at x = 0.5 + j2, turned by j1 about z.
    # Not adjacent (the link between them has a shape of its own, far above), so the pair is checked.
    urdf = tmp_path / "boxes.urdf"
    urdf.write_text(TWO_BOXES)
    q = np.array([[0.0, 0.0], [0.0, -0.25], [0.0, -0.35], [np.pi / 2, 0.0], [0.0, -0.5]])
    result = deepik.collide(str(urdf), q)
    # Faces 0.1 m from each centre: gap = 0.5 + j2 - 0.2 (the turn about z keeps the gap).
    np.testing.assert_allclose(result["min_distance"][:4], [0.3, 0.05, 0.0, 0.3], atol=1e-9)
    assert result["in_collision"].tolist() == [False, False, True, False, True]
    assert result["link_a"] == ["base"] * 5 and result["link_b"] == ["arm"] * 5


def test_collide_bad_input(source_dir):
    with pytest.raises(deepik.InputError, match="no collision geometry"):
        deepik.collide("seed", [0, 0, 0, 0])
    with pytest.raises(deepik.InputError, match="expected exact or spheres"):
        deepik.collide("panda", np.zeros(7), model="fcl")
    with pytest.raises(ValueError, match="q"):
        deepik.collide("panda", np.zeros((2, 6)))
    with pytest.raises(ValueError):
        deepik.collide("panda", [0, 0, 0, np.nan, 0, 0, 0])
    with pytest.raises(deepik.InputError, match="spheres"):
        deepik.collide("panda", np.zeros(7), model="spheres", spheres=str(source_dir / "no-such.spheres.json"))


def test_collide_loads_geometry_on_demand():
    # `import deepik` alone does not load assimp and FCL (the geometry module).
    done = run(sys.executable, "-c", "import deepik, sys; print('deepik._geometry' in sys.modules)")
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
