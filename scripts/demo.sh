#!/usr/bin/env bash
# deepik's main job: set up, build, make sure the default seed-arm model exists (train it if it
# is not shipped), report its accuracy next to the other solvers, then serve the web page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Only what the demo runs: the command and its training plugin (the page is static, under web/).
# scripts/test.sh builds the rest (the tests, the benchmarks).
bash scripts/build.sh deepik_cli deepik_learn_commands
model=models/seed-default.safetensors
if [ ! -f "$model" ]; then
  echo "demo: $model is missing; training it (about 3 minutes on 2 cores)"
  mkdir -p models
  # The exact command that produced the shipped model (README, "The default model").
  build/deepik train seed --sampler workspace --count 1000000 --margin 0.2 --train-fraction 0.9 \
    --validation-fraction 0.01 --epochs 14 --depth 4 --width 256 --activation relu --head bounded \
    --loss fk --lr 1e-3 --batch 1024 --seed 1 --threads 1 --newton-steps 1 -o "$model"
fi
build/deepik arm info seed
echo
echo "demo: accuracy of $model (network alone, then every solver on the same targets):"
build/deepik eval --model "$model" --in-reach 2000 --out-of-reach 300
echo
exec build/deepik serve --model "$model" --port "${DEEPIK_PORT:-8080}"
