"""Shared fixtures of the Python tests (run by ctest with /usr/bin/python3 -m pytest; see
tests/CMakeLists.txt): the `deepik` command, the source tree and a scratch folder."""

import os
import pathlib
import subprocess

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cli():
    return os.environ["DEEPIK_CLI"]


@pytest.fixture(scope="session")
def source_dir():
    return pathlib.Path(os.environ["DEEPIK_SOURCE_DIR"])


@pytest.fixture(scope="session")
def seed_model(source_dir):
    return str(source_dir / "models" / "seed-default.safetensors")


def run(*args, **kwargs):
    """Runs a command; returns the completed process (stdout and stderr as text)."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)


def write_csv(path, header, rows):
    np.savetxt(path, rows, delimiter=",", header=",".join(header), comments="", fmt="%.17g")


def read_csv(path):
    """A CSV with a header: (names, float rows) for its numeric columns, and the raw text rows."""
    with open(path) as f:
        names = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    return names, rows
