#!/usr/bin/env bash
# CPU cost of start-up, the figures that a busy machine does not inflate much (docs/BENCHMARKS.md):
#   bash scripts/startup_cpu.sh [DEEPIK] [MODEL] [RUNS]
# For `arm info seed`, `solve` on one target and `serve` to its first answer to GET /api/arm:
# the median CPU time of the process (perf stat's task-clock, all threads) over RUNS runs, and the
# instructions it executes (valgrind's callgrind, one run; exact and the same on any load).
# Needs perf and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
deepik=$(realpath "${1:-build/deepik}")
model=$(realpath "${2:-models/seed-default.safetensors}")
runs=${3:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'x,y,z\n0.8,0.3,1.0\n' >"$work/t.csv"

# Runs `$@ serve` (the tool's prefix, then deepik) to its first answer, then stops the server:
# SIGINT under valgrind (which writes its counts at exit), SIGKILL under perf.
serve_once() {
  local signal=$1
  shift
  rm -f "$work/fifo"
  mkfifo "$work/fifo"
  "$@" serve --model "$model" --port 0 >"$work/fifo" 2>"$work/serve.err" &
  local tool=$!
  exec 4<"$work/fifo"
  local line port status
  read -r line <&4 || { echo "serve printed nothing: $(cat "$work/serve.err")" >&2; exit 1; }
  port=$(printf '%s' "$line" | sed -n 's#.*http://127.0.0.1:\([0-9]*\).*#\1#p')
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET /api/arm HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  read -r status <&3
  exec 3>&- 4<&-
  case "$status" in *" 200 "*) ;; *) echo "serve answered: $status" >&2; exit 1 ;; esac
  # The server is the tool's child (perf) or the tool itself (valgrind).
  if [ "$signal" = KILL ]; then pkill -KILL -P "$tool"; else kill -INT "$tool"; fi
  wait "$tool" 2>/dev/null || true
}

run() {  # run TOOL... : one command of the table with the tool's prefix
  case "$name" in
    "arm info seed") "$@" "$deepik" arm info seed >/dev/null ;;
    "solve, one target") "$@" "$deepik" solve --model "$model" -i "$work/t.csv" -o "$work/s.csv" 2>/dev/null ;;
    *) serve_once "$1" "${@:2}" "$deepik" ;;
  esac
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "| command | CPU time, median of $runs (ms) | instructions (millions) |"
echo "|---|---|---|"
for name in "arm info seed" "solve, one target" "serve until it answers"; do
  for _ in $(seq "$runs"); do
    if [ "$name" = "serve until it answers" ]; then
      run KILL perf stat -x, -e task-clock -o "$work/perf.txt" --
    else
      run perf stat -x, -e task-clock -o "$work/perf.txt" --
    fi
    grep task-clock "$work/perf.txt" | cut -d, -f1
  done | median >"$work/cpu.txt"
  if [ "$name" = "serve until it answers" ]; then
    run INT valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$work/vg.txt"
  else
    run valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$work/vg.txt"
  fi
  ir=$(sed -n 's/.*refs: *\([0-9,]*\).*/\1/p' "$work/vg.txt" | tr -d ,)
  awk -v n="$name" -v ir="$ir" '{printf "| %s | %.1f | %.1f |\n", n, $1, ir / 1e6}' "$work/cpu.txt"
done
