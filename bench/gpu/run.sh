#!/usr/bin/env bash
# The GPU kernel benchmark: inpaint, compositing and fit, CPU and GPU side by side, at 1080p
# and 4K. Writes bench/out/gpu.md. Without a GPU the GPU column says why.
#
#   bash bench/gpu/run.sh [--frames N] [--sizes 1920x1080,3840x2160]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
mkdir -p bench/out
cargo build --release -q -p framejet-gpu-bench
"$CARGO_TARGET_DIR/release/gpu-bench" --out bench/out/gpu.md "$@"
echo "table: bench/out/gpu.md"
