#!/usr/bin/env bash
# Start-up time and peak memory of the commands that do not train (docs/BENCHMARKS.md):
#   bash scripts/startup_bench.sh [DEEPIK] [MODEL] [RUNS]
# Times are hyperfine's median over RUNS runs (after 3 warm-ups); memory is the median peak
# resident set (GNU time's %M) over RUNS runs. `serve` is timed from start until its answer to
# GET /api/arm has arrived, by a client in Python (scripts/serve_first_answer.py), with the
# server's own peak (VmHWM). Needs hyperfine, GNU time and python3 (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
deepik=$(realpath "${1:-build/deepik}")
model=$(realpath "${2:-models/seed-default.safetensors}")
runs=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'x,y,z\n0.8,0.3,1.0\n' >"$work/t.csv"

declare -A commands=(
  ["arm info seed"]="'$deepik' arm info seed"
  ["solve, one target"]="'$deepik' solve --model '$model' -i '$work/t.csv' -o '$work/s.csv'"
)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "| command | start-up, median of $runs (ms) | peak memory, median (MB) |"
echo "|---|---|---|"
for name in "arm info seed" "solve, one target"; do
  cmd=${commands[$name]}
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" "$cmd" >/dev/null 2>&1 ||
    hyperfine --warmup 3 --runs "$runs" --export-json "$work/h.json" "$cmd" >/dev/null
  ms=$(grep -m1 '"median"' "$work/h.json" | sed 's/.*: *//; s/,//' | awk '{printf "%.1f", $1 * 1000}')
  # Peak memory: of the deepik process itself.
  for _ in $(seq "$runs"); do
    eval "/usr/bin/time -f '%M' -o '$work/m.txt' $cmd" >/dev/null 2>&1
    tail -n1 "$work/m.txt"
  done | median | awk -v n="$name" -v ms="$ms" '{printf "| %s | %s | %.1f |\n", n, ms, $1 / 1024}'
done
python3 scripts/serve_first_answer.py "$deepik" "$model" "$runs" |
  awk '{printf "| serve until it answers | %s | %s |\n", $1, $2}'
