#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what is missing,
# builds framejet and its plugins, makes the example media and removes the
# watermark from a real video, in-process, with no server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/build-plugins.sh
cargo build --quiet --release -p framejet
framejet="$CARGO_TARGET_DIR/release/framejet"
bash examples/make-media.sh
mkdir -p examples/out
"$framejet" run examples/watermark-removal.json -o examples/out/watermark-removed.mp4
echo
echo "output:    $(pwd)/examples/out/watermark-removed.mp4"
echo "input:     $(pwd)/examples/media/watermarked.mp4"
echo "job log:   $(pwd)/examples/out/watermark-removed.mp4.log"
echo "next:      $framejet run examples/compilation.json -o examples/out/compilation.mp4"
