#!/usr/bin/env bash
# The self-collision share of a panda pose model's answers (docs/BENCHMARKS.md, "Learned
# collision-free starts"): 10,000 FK poses of configurations uniform within panda's limits (Python's
# random.Random(20261207)), solved by the network alone and by `refined` (collisions off), each
# answer judged by the exact check (`collide panda`, FCL, the shipped matrix's pairs).
#   bash scripts/collision_share.sh MODEL WORKDIR
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
dir=$2
name=$(basename "$model" .safetensors)
mkdir -p "$dir"
if [ ! -f "$dir/poses.csv" ]; then
  python3 - "$dir/q.csv" <<'PY'
import random, sys, xml.etree.ElementTree as ET
limits = {j.get('name'): (float(j.find('limit').get('lower')), float(j.find('limit').get('upper')))
          for j in ET.parse('robots/panda.urdf').getroot().iter('joint') if j.get('type') == 'revolute'}
names = ['panda_joint%d' % i for i in range(1, 8)]
rng = random.Random(20261207)
with open(sys.argv[1], 'w') as f:
    f.write(','.join(names) + '\n')
    for _ in range(10000):
        f.write(','.join(repr(rng.uniform(*limits[n])) for n in names) + '\n')
PY
  build/deepik fk panda -i "$dir/q.csv" -o "$dir/poses.csv"
  build/deepik collide panda -i "$dir/q.csv" -o "$dir/source.collide.csv"
fi
for solver in network refined; do
  build/deepik solve -m "$model" --solver $solver --collisions off -i "$dir/poses.csv" -o "$dir/$name.$solver.csv"
  cut -d, -f1-7 "$dir/$name.$solver.csv" >"$dir/$name.$solver.q.csv"
  build/deepik collide panda -i "$dir/$name.$solver.q.csv" -o "$dir/$name.$solver.collide.csv"
  python3 - "$dir/source.collide.csv" "$dir/$name.$solver.collide.csv" "$name" "$solver" <<'PY'
import csv, sys
source = [r['in_collision'] == '1' for r in csv.DictReader(open(sys.argv[1]))]
answer = [r['in_collision'] == '1' for r in csv.DictReader(open(sys.argv[2]))]
clear = [a for s, a in zip(source, answer) if not s]
print(f"{sys.argv[3]} {sys.argv[4]}: {sum(answer)} of {len(answer)} answers in self-collision "
      f"({100.0 * sum(answer) / len(answer):.2f} %); on the {len(clear)} poses of clear configurations "
      f"{sum(clear)} ({100.0 * sum(clear) / len(clear):.2f} %)")
PY
done
