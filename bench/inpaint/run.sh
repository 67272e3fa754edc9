#!/usr/bin/env bash
# Watermark-removal yardstick: framejet's inpaint against FFmpeg's delogo/removelogo and
# OpenCV's Telea/Navier-Stokes, measured in one run. Writes bench/out/inpaint.md.
#
#   bench/inpaint/run.sh                          # everything (about 15 minutes on 2 cores)
#   bench/inpaint/run.sh --sizes 640x360          # quicker
#   bench/inpaint/run.sh --scenes pan --marks semi --methods framejet,telea
#
# Needs ffmpeg, python3 (with venv) and cargo; installs opencv-python-headless and numpy into
# bench/out/venv.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/out"
venv="$out/venv"
mkdir -p "$out/inpaint"
source "$root/scripts/env.sh"
# The benchmarks run the plugins as built here.
export FRAMEJET_PLUGIN_PATH="$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet opencv-python-headless numpy

cargo build --release --quiet -p framejet-inpaint --example inpaint_y4m --manifest-path "$root/Cargo.toml"
cargo build --release --quiet -p framejet --manifest-path "$root/Cargo.toml"
[ -f "$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release/segment_keyframes.wasm" ] || bash "$root/scripts/build-plugins.sh"

"$venv/bin/python" "$root/bench/inpaint/bench.py" \
    --bin "$CARGO_TARGET_DIR/release/examples/inpaint_y4m" \
    --framejet "$CARGO_TARGET_DIR/release/framejet" \
    --out "$out/inpaint" \
    --table "$out/inpaint.md" \
    "$@"
