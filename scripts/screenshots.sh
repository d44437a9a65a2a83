#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/screenshot.png: desktop, 1600x1000; docs/screenshot-phone.png:
# a phone, 390x844; docs/screenshot-panda.png: Panda served without a model, a pose target with its
# gizmo, 1600x1000; docs/screenshot-urdf.png: a URDF arm drawn from its boxes, cylinders and
# spheres, 1000x700) by running the browser test with its screenshots going into docs/ instead of
# the build folder, and prints the test's measurements ("bench:" lines, for docs/BENCHMARKS.md).
# Needs a built `deepik` (scripts/build.sh) and web/node_modules (scripts/setup.sh).
#   bash scripts/screenshots.sh [build/deepik]
set -euo pipefail
cd "$(dirname "$0")/.."
deepik=$(realpath "${1:-build/deepik}")
cd web
node ../tests/web/e2e.mjs --deepik "$deepik" --model ../models/seed-default.safetensors \
  --screenshots ../docs --web-root .
