"""One definition of each option's range (include/deepik/solve/solve_request.hpp, TrainOptions in
include/deepik/learn/trainer.hpp): the same out-of-range value given to the command line and to
Python is refused by both with the same field and the same range text, before any work.

The JSON API shares the posture weights and the thread count with the command line (its ranges
are SolveRequest's too, src/serve/request_parsing.hpp): the same value gets a 400 whose "error"
names the same field and range, and `serve --threads` refuses as `solve --threads` does."""

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import numpy as np
import pytest

import deepik

from conftest import run


@dataclass
class Case:
    cli: list        # the command line's arguments after `deepik`
    python: object   # a function of the scratch folder that makes the Python call
    value: float     # the value refused


def refusal_parts(message):
    """(field, range text, value) of "FIELD: expected a ... in [MIN, MAX], got VALUE"."""
    match = re.search(r"(?:^|: error: )-*([a-z_-]+): expected a (?:whole )?number in (\[[^\]]*\]), got '?([^'\s]+)'?",
                      message, re.M)
    assert match, message
    return match.group(1).replace("-", "_"), match.group(2), float(match.group(3))


def solve_case(tmp, option, value, **python):
    targets = tmp / "t.csv"
    targets.write_text("x,y,z\n0.3,0.1,0.4\n")
    return Case(["solve", "--arm", "planar2", "-i", targets, "-o", tmp / "s.csv", option, str(value)],
                lambda: deepik.Solver(deepik.Arm("planar2"), **{k: v for k, v in python.items() if k != "threads"})
                .solve([0.3, 0.1, 0.4], **({"threads": python["threads"]} if "threads" in python else {})), value)


def cases(tmp):
    return {
        "threads": solve_case(tmp, "--threads", 0, threads=0),
        "threads_high": solve_case(tmp, "--threads", 257, threads=257),
        "position_tolerance": solve_case(tmp, "--position-tolerance", 2.0, position_tolerance=2.0),
        "angle_tolerance": solve_case(tmp, "--angle-tolerance", 1e-20, angle_tolerance=1e-20),
        "lr": Case(["train", "planar2", "-o", tmp / "m.safetensors", "--lr", "5"],
                   lambda: deepik.train(str(tmp / "m.safetensors"), arm="planar2", lr=5.0), 5.0),
        "epochs": Case(["train", "planar2", "-o", tmp / "m.safetensors", "--epochs", "0"],
                       lambda: deepik.train(str(tmp / "m.safetensors"), arm="planar2", epochs=0), 0.0),
        "batch": Case(["train", "planar2", "-o", tmp / "m.safetensors", "--batch", "0"],
                      lambda: deepik.train(str(tmp / "m.safetensors"), arm="planar2", batch=0), 0.0),
    }


@pytest.mark.parametrize("name", ["threads", "threads_high", "position_tolerance", "angle_tolerance", "lr",
                                  "epochs", "batch"])
def test_the_same_value_is_refused_the_same_way_by_every_front_end(cli, tmp_path, name):
    case = cases(tmp_path)[name]
    process = run(cli, *case.cli)
    assert process.returncode == 2, process.stderr  # a usage error, before any work
    cli_field, cli_range, cli_value = refusal_parts(process.stderr)
    with pytest.raises(ValueError) as error:
        case.python()
    py_field, py_range, py_value = refusal_parts(str(error.value))
    assert (py_field, py_range) == (cli_field, cli_range), (process.stderr, str(error.value))
    assert py_value == cli_value == case.value
    assert not (tmp_path / "m.safetensors").exists() and not (tmp_path / "s.csv").exists()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def api(cli):
    """`deepik serve --arm planar2` on a port of its own (127.0.0.1), stopped after the test."""
    port = free_port()
    server = subprocess.Popen([str(cli), "serve", "--arm", "planar2", "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/api/arm", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.05)
        else:
            server.terminate()
            pytest.fail("serve did not answer within 15 s: " + server.communicate(timeout=10)[1].decode())
        if server.poll() is not None:
            pytest.fail("serve exited: " + server.communicate(timeout=10)[1].decode())
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("field,value", [("avoid_limits", 2e6), ("posture_weight", -1.0), ("start_weight", 1e7)])
def test_the_json_api_refuses_the_posture_weights_as_the_command_line_does(cli, api, tmp_path, field, value):
    targets = tmp_path / "t.csv"
    targets.write_text("x,y,z\n0.3,0.1,0.4\n")
    process = run(cli, "solve", "--arm", "planar2", "-i", targets, "-o", tmp_path / "s.csv",
                  "--" + field.replace("_", "-"), repr(value))
    assert process.returncode == 2, process.stderr
    body = json.dumps({"target": [0.3, 0.1, 0.4], "solver": "lm", field: value}).encode()
    request = urllib.request.Request(api + "/api/solve", data=body, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)
    assert answer.value.code == 400
    message = json.loads(answer.value.read())["error"]
    assert refusal_parts(message) == refusal_parts(process.stderr), (message, process.stderr)
    assert refusal_parts(message)[2] == value


def test_serve_refuses_the_thread_count_as_solve_does(cli, tmp_path):
    targets = tmp_path / "t.csv"
    targets.write_text("x,y,z\n0.3,0.1,0.4\n")
    solve = run(cli, "solve", "--arm", "planar2", "-i", targets, "-o", tmp_path / "s.csv", "--threads", "257")
    serve = run(cli, "serve", "--arm", "planar2", "--port", "0", "--threads", "257")
    assert solve.returncode == serve.returncode == 2, (solve.stderr, serve.stderr)
    assert refusal_parts(serve.stderr) == refusal_parts(solve.stderr), (solve.stderr, serve.stderr)
