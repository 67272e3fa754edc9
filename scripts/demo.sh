#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what is missing,
# builds and installs framejet with its plugins, makes the example media and
# removes the watermark from a real video, in-process, with no server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/install.sh
framejet="${FRAMEJET_PREFIX:-${CARGO_HOME:-$HOME/.cargo}}/bin/framejet"
bash examples/make-media.sh
mkdir -p examples/out
# -y: the demo replaces its own output from an earlier run.
"$framejet" run examples/watermark-removal.json -o examples/out/watermark-removed.mp4 -y
echo
echo "output:    $(pwd)/examples/out/watermark-removed.mp4"
echo "input:     $(pwd)/examples/media/watermarked.mp4"
echo "job log:   $(pwd)/examples/out/watermark-removed.mp4.log"
echo "next, from any directory in a new shell:"
echo "           framejet run $(pwd)/examples/compilation.json -o compilation.mp4"
