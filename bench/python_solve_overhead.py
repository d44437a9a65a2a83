"""The cost of calling deepik from Python: deepik.Solver.solve on 1 and on 10,000 targets, against
the same SolveBatch call in C++ (deepik_bench_solve's BM_SolveBatch, same sizes, one thread).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_solve_overhead.py
    build/bench/deepik_bench_solve --benchmark_filter=BM_SolveBatch --benchmark_repetitions=5 \\
        --benchmark_report_aggregates_only=true

Prints the median CPU time of one call (us) per solver and size; the overhead is this minus the
C++ median (its CPU column). Targets: FK of uniform random joints (seeded), as in the C++ benchmark.
"""

import sys
import time

import numpy as np

import deepik


def median_call_us(function, seconds=2.0):
    """Median CPU time of one call (us; the process's, as the CPU column of Google Benchmark, so
    that other jobs on a shared machine do not count), over repetitions filling about `seconds`."""
    function()
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        start = time.process_time_ns()
        function()
        times.append(time.process_time_ns() - start)
    return 1e-3 * float(np.median(times))


def main():
    model_path = sys.argv[1] if len(sys.argv) > 1 else "models/seed-default.safetensors"
    model = deepik.Model(model_path)
    arm = model.arm
    q = np.random.default_rng(7).uniform(arm.lower, arm.upper, (10_000, arm.dof))
    targets = np.ascontiguousarray(arm.fk(q)[:, :3])
    print(f"{'solver':10} {'targets':>8} {'Python call, CPU (us)':>21}")
    for name in ["network", "refined", "analytic"]:
        solver = deepik.Solver(model, name)
        for n in [1, 10_000]:
            batch = targets[:n]
            print(f"{name:10} {n:8d} {median_call_us(lambda: solver.solve(batch)):21.2f}")
        one = targets[0]
        print(f"{name:10} {'(3,)':>8} {median_call_us(lambda: solver.solve(one)):21.2f}")


if __name__ == "__main__":
    main()
