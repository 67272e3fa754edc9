#!/usr/bin/env bash
# Watermark removal on kinds of video it was not tuned for: framejet's inpaint job step against
# FFmpeg's delogo/removelogo, OpenCV's Telea/Navier-Stokes and the untouched input, on generated
# 360p clips (see corpus.py). Writes bench/out/inpaint-corpus.md.
#
#   bench/inpaint/corpus.sh                              # every kind, one segment
#   bench/inpaint/corpus.sh --segments 1,2,4 --check     # what the test suite runs
#   bench/inpaint/corpus.sh --kinds zoom-semi,still-opaque
#
# Needs ffmpeg (with libx265), python3 (with venv) and the installed framejet (or FRAMEJET);
# installs opencv-python-headless and numpy into bench/out/venv. Baselines are cached by clip.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/out"
venv="$out/venv"
mkdir -p "$out/corpus"
source "$root/scripts/env.sh"
framejet="${FRAMEJET:-${FRAMEJET_PREFIX:-${CARGO_HOME:-$HOME/.cargo}}/bin/framejet}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import cv2, numpy" 2>/dev/null \
    || "$venv/bin/pip" install --quiet opencv-python-headless numpy
"$venv/bin/python" "$root/bench/inpaint/corpus.py" --framejet "$framejet" \
    --out "$out/corpus" --table "$out/inpaint-corpus.md" "$@"
