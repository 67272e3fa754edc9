#!/usr/bin/env bash
# Everything the GPU path checks on a GPU machine, in one go, for a machine with the CUDA
# driver and NVRTC but no Rust and no FFmpeg.
#
# Here (with Rust and FFmpeg):   bash bench/gpu/device.sh prepare
#   builds the kernel tests and the benchmark without FFmpeg, decodes six real frames, and
#   puts them in target-gpu/ (about 10 MiB).
# There (carry target-gpu/):     bash bench/gpu/device.sh run
#   runs the kernel tests with FRAMEJET_GPU_TESTS=1 (a missing GPU fails them) and the
#   benchmark, writing $OUT/gpu-tests.txt and $OUT/gpu.md (or target-gpu/out/ without $OUT).
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-}" in
prepare)
    source scripts/env.sh
    rm -rf target-gpu && mkdir -p target-gpu
    test_bin=$(cargo test --release -p framejet-gpu --test twins --no-run --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "twins":
        print(m["executable"])')
    cp "$test_bin" target-gpu/twins
    cargo build --release -q -p framejet-gpu-bench --no-default-features
    cp "$CARGO_TARGET_DIR/release/gpu-bench" target-gpu/gpu-bench
    strip target-gpu/twins target-gpu/gpu-bench
    ffmpeg -nostdin -v error -ss 2 -i examples/media/clean.mp4 -frames:v 6 -pix_fmt yuv420p \
        -f yuv4mpegpipe target-gpu/frames.y4m </dev/null
    du -sh target-gpu
    ;;
run)
    out=${OUT:-target-gpu/out}
    mkdir -p "$out"
    nvidia-smi -L | tee "$out/gpu-name.txt" || true
    status=0
    FRAMEJET_GPU_TESTS=1 FRAMEJET_TEST_Y4M=target-gpu/frames.y4m target-gpu/twins \
        2>&1 | tee "$out/gpu-tests.txt" || status=$?
    target-gpu/gpu-bench --out "$out/gpu.md" 2>&1 | tail -20 || status=$?
    exit "$status"
    ;;
*)
    echo "usage: bash bench/gpu/device.sh prepare|run" >&2
    exit 2
    ;;
esac
