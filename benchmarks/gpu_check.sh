#!/usr/bin/env bash
# GPU check: a fresh virtual environment with the CUDA build of PyTorch from PyPI and this project,
# then a fixed-step fine-tune and 20,000 scored tweets on the CUDA device, printing tweets/s.
#
#   benchmarks/gpu_check.sh [--airline PATH] [--train-steps 300] [--score 20000]
#
# Run from anywhere on a machine with an NVIDIA GPU and a driver; needs PyPI (or set
# TWEETSENT_GPU_VENV to an existing environment that has the project installed: nothing is installed then).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TWEETSENT_GPU_VENV:-${TMPDIR:-/tmp}/tweetsent-gpu-venv}"

if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
else
    echo "warning: nvidia-smi not found; PyTorch will say whether it sees a GPU" >&2
fi

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, sentiment" >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    # Linux wheels of torch on PyPI are the CUDA builds; the version is the one the project pins.
    "$venv/bin/pip" install --quiet "$repo"
fi
"$venv/bin/python" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'available', torch.cuda.is_available())"

cd "$repo"
exec "$venv/bin/python" benchmarks/gpu_check.py --device cuda "$@"
