"""The cost of calling deepik from Python: deepik.Solver.solve on 1 and on 10,000 targets, side by
side with the same SolveBatch call in C++ (deepik_bench_solve's BM_SolveBatch: same model, same
sizes, one thread), in one run:

    PYTHONPATH=build/python /usr/bin/python3 bench/python_solve_overhead.py \\
        [--cpp build/bench/deepik_bench_solve] [--rounds 3] [--model models/seed-default.safetensors]

For each solver and size, each round measures the C++ call (a subprocess running the benchmark
binary with --benchmark_filter for that case) and then the Python call, one after the other, so
that both see the same load; the table gives the medians over the rounds of the median CPU time of
one call (us; CPU time, so that other jobs on a shared machine count less) and the overhead.
Targets: FK of uniform random joints (seeded), as in the C++ benchmark (not the same draws).
"""

import argparse
import json
import subprocess
import time

import numpy as np

import deepik


def median_call_us(function, seconds=1.0):
    """Median CPU time of one call (us; the process's, as the CPU column of Google Benchmark),
    over repetitions filling about `seconds` of wall time."""
    function()
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        start = time.process_time_ns()
        function()
        times.append(time.process_time_ns() - start)
    return 1e-3 * float(np.median(times))


def cpp_call_us(binary, name, n):
    """The C++ benchmark's median CPU time of one SolveBatch call (us) for `name` on n targets."""
    done = subprocess.run([binary, f"--benchmark_filter=^BM_SolveBatch/{name}/{n}$", "--benchmark_format=json",
                           "--benchmark_min_time=0.5", "--benchmark_repetitions=3",
                           "--benchmark_report_aggregates_only=true"], capture_output=True, text=True, check=True)
    runs = json.loads(done.stdout)["benchmarks"]
    median = [r for r in runs if r.get("aggregate_name") == "median"]
    if not median:
        raise RuntimeError(f"no median for BM_SolveBatch/{name}/{n} in {binary}'s output")
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[median[0]["time_unit"]]
    return median[0]["cpu_time"] * scale


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpp", default="build/bench/deepik_bench_solve")
    parser.add_argument("--model", default="models/seed-default.safetensors")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = deepik.Model(args.model)
    arm = model.arm
    q = np.random.default_rng(7).uniform(arm.lower, arm.upper, (10_000, arm.dof))
    targets = np.ascontiguousarray(arm.fk(q)[:, :3])
    print(f"{'solver':9} {'targets':>8} {'C++ SolveBatch (us)':>20} {'Python solve (us)':>18} {'overhead (us)':>14}"
          f" {'ratio':>6}")
    for name in ["analytic", "network", "refined"]:
        solver = deepik.Solver(model, name)
        for n in [1, 10_000]:
            batch = targets[:n]
            cpp, python = [], []
            for _ in range(args.rounds):
                cpp.append(cpp_call_us(args.cpp, name, n))
                python.append(median_call_us(lambda: solver.solve(batch)))
            c, p = float(np.median(cpp)), float(np.median(python))
            print(f"{name:9} {n:8d} {c:20.2f} {p:18.2f} {p - c:14.2f} {p / c:6.2f}", flush=True)


if __name__ == "__main__":
    main()
