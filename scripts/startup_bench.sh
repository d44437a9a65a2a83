#!/usr/bin/env bash
# Start-up time and peak memory of the commands that do not train (docs/BENCHMARKS.md):
#   bash scripts/startup_bench.sh [DEEPIK] [MODEL] [RUNS]
# Times are hyperfine's median over RUNS runs (after 3 warm-ups); memory is the median peak
# resident set (GNU time's %M) over RUNS runs. `serve` is timed from start until it has answered
# GET /api/arm. Needs hyperfine and GNU time (scripts/setup.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
deepik=$(realpath "${1:-build/deepik}")
model=$(realpath "${2:-models/seed-default.safetensors}")
runs=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'x,y,z\n0.8,0.3,1.0\n' >"$work/t.csv"

# Starts `deepik serve` on a free port, waits for its first answer, stops it.
cat >"$work/serve_once.sh" <<SCRIPT
#!/usr/bin/env bash
set -u
rm -f "$work/serve.fifo"; mkfifo "$work/serve.fifo"
"\$@" serve --model "$model" --port 0 >"$work/serve.fifo" 2>&1 &
pid=\$!
# Block on the server's first line (no polling loop competing for the CPU).
exec 4<"$work/serve.fifo"
read -r line <&4 || { echo "serve printed nothing" >&2; exit 1; }
port=\$(printf '%s' "\$line" | sed -n 's#.*http://127.0.0.1:\([0-9]*\).*#\1#p')
[ -n "\$port" ] || { echo "serve: \$line" >&2; kill -KILL \$pid; exit 1; }
exec 3<>/dev/tcp/127.0.0.1/\$port
printf 'GET /api/arm HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
read -r status <&3
exec 3>&-
# The server's own peak resident set (VmHWM, kB), read before it stops.
[ -n "\${PEAK_FILE:-}" ] && sed -n 's/^VmHWM:[[:space:]]*\\([0-9]*\\).*/\\1/p' /proc/\$pid/status >"\$PEAK_FILE"
kill -KILL \$pid; wait \$pid 2>/dev/null  # stopping is not part of the start-up
case "\$status" in *" 200 "*) exit 0 ;; *) echo "serve answered: \$status" >&2; exit 1 ;; esac
SCRIPT
chmod +x "$work/serve_once.sh"

declare -A commands=(
  ["arm info seed"]="'$deepik' arm info seed"
  ["solve, one target"]="'$deepik' solve --model '$model' -i '$work/t.csv' -o '$work/s.csv'"
  ["serve until it answers"]="'$work/serve_once.sh' '$deepik'"
)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "| command | start-up, median of $runs (ms) | peak memory, median (MB) |"
echo "|---|---|---|"
for name in "arm info seed" "solve, one target" "serve until it answers"; do
  cmd=${commands[$name]}
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" "$cmd" >/dev/null 2>&1 ||
    hyperfine --warmup 3 --runs "$runs" --export-json "$work/h.json" "$cmd" >/dev/null
  ms=$(grep -m1 '"median"' "$work/h.json" | sed 's/.*: *//; s/,//' | awk '{printf "%.1f", $1 * 1000}')
  # Peak memory: of the deepik process itself (for serve, the server, not the wrapper script).
  for _ in $(seq "$runs"); do
    if [ "$name" = "serve until it answers" ]; then
      PEAK_FILE="$work/m.txt" "$work/serve_once.sh" "$deepik" >/dev/null 2>&1
    else
      eval "/usr/bin/time -f '%M' -o '$work/m.txt' $cmd" >/dev/null 2>&1
    fi
    tail -n1 "$work/m.txt"
  done | median | awk -v n="$name" -v ms="$ms" '{printf "| %s | %s | %.1f |\n", n, ms, $1 / 1024}'
done
