#!/usr/bin/env bash
# deepik's main job: set up, build, and show the default arm.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/deepik arm info seed
printf 'shoulder_yaw,shoulder_pitch,elbow_yaw,elbow_pitch\n0,0,0,0\n0,1.5707963267948966,0,0\n0.5,0.3,-0.2,1.0\n' > build/demo_q.csv
./build/deepik fk seed --input build/demo_q.csv --output build/demo_p.csv
echo "FK of build/demo_q.csv (seed arm):"
cat build/demo_p.csv
