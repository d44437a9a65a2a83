#!/usr/bin/env python3
"""Time from starting `deepik serve` until its answer to GET /api/arm has arrived (docs/BENCHMARKS.md).

usage: serve_first_answer.py DEEPIK MODEL RUNS
Prints two numbers: the median time in ms over RUNS runs (after 3 warm-ups) and the server's
median peak resident set in MB (VmHWM, read before it is stopped). Stopping the server is not
timed. A client in this process, rather than a shell wrapper, keeps fork, pipe and exit costs of
helper programs out of the figure.
"""
import re
import socket
import statistics
import subprocess
import sys
import time


def once(deepik, model):
    start = time.perf_counter()
    server = subprocess.Popen([deepik, "serve", "--model", model, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = server.stdout.readline().decode()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            raise SystemExit(f"serve printed no address: {line!r}")
        with socket.create_connection(("127.0.0.1", int(match.group(1)))) as client:
            client.sendall(b"GET /api/arm HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            status = client.recv(64)
        elapsed = time.perf_counter() - start
        if b" 200 " not in status:
            raise SystemExit(f"serve answered: {status!r}")
        with open(f"/proc/{server.pid}/status") as proc:
            peak_kb = int(re.search(r"VmHWM:\s*(\d+)", proc.read()).group(1))
        return elapsed, peak_kb
    finally:
        server.kill()
        server.wait()


def main():
    deepik, model, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for _ in range(3):
        once(deepik, model)
    results = [once(deepik, model) for _ in range(runs)]
    print(f"{statistics.median(r[0] for r in results) * 1000:.1f} "
          f"{statistics.median(r[1] for r in results) / 1024:.1f}")


if __name__ == "__main__":
    main()
