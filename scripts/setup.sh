#!/usr/bin/env bash
# Installs everything deepik needs on Debian 12, from Debian's packages and the npm registry only.
# Idempotent: packages already present are not fetched again; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config clang-format ccache
  clang libclang-rt-14-dev
  libtorch-dev libopenblas0-pthread
  libgloo-dev  # the Gloo headers of libtorch's c10d (distributed training)
  libeigen3-dev liburdfdom-dev liborocos-kdl-dev
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
  libassimp-dev libfcl-dev  # the geometry layer: meshes (assimp 5.2) and exact collision checks (FCL 0.7)
  libqhull-dev  # convex hulls of the links, the exact check's first test
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium
  hyperfine time
  # Python bindings (for Debian's /usr/bin/python3, not a pyenv or venv python3 on PATH) and ONNX export.
  pybind11-dev python3-pybind11 python3-dev python3-numpy python3-pytest
  libonnx-dev libprotobuf-dev python3-onnx
)
# Node.js and npm: use the machine's own when present (Debian's nodejs conflicts with some npm builds).
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# Front-end and test packages from the committed lock file (three.js, playwright-core, and
# onnxruntime-node for the ONNX export test), when the web app exists. --ignore-scripts:
# onnxruntime-node's install script fetches GPU extras from the internet; its CPU runtime is in the
# package itself and needs no script.
if [ -f web/package-lock.json ]; then
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
fi
