#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/screenshot.png: desktop, 1600x1000; docs/screenshot-phone.png:
# a phone, 390x844; docs/screenshot-panda.png: Panda served without a model, a pose target with its
# gizmo, 1600x1000; docs/screenshot-urdf.png: a URDF arm drawn from its boxes, cylinders and
# spheres, 1000x700; docs/robot-{panda,ur5,iiwa14}.png and robot-*-phone.png: the real arms drawn
# from their meshes, 1600x1000 and 390x844, with robot-panda-collision.png (links in collision
# tinted) and robot-panda-spheres.png (the sphere model)) by running the browser tests with its screenshots going into docs/ instead of
# the build folder, and prints the test's measurements ("bench:" lines, for docs/BENCHMARKS.md).
# Needs a built `deepik` (scripts/build.sh) and web/node_modules (scripts/setup.sh).
#   bash scripts/screenshots.sh [build/deepik]
set -euo pipefail
cd "$(dirname "$0")/.."
deepik=$(realpath "${1:-build/deepik}")
cd web
node ../tests/web/e2e.mjs --deepik "$deepik" --model ../models/seed-default.safetensors \
  --screenshots ../docs --web-root .
node ../tests/web/robot.mjs --deepik "$deepik" --model ../models/seed-default.safetensors \
  --screenshots ../docs --web-root .
