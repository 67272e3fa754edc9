#!/usr/bin/env bash
# The README's before/after picture of watermark removal: frames 30 and 120 of the example's
# input (top) and of framejet's output (bottom), cropped around the mark and shown at 2x.
# Run after scripts/demo.sh (it reads examples/out/watermark-removed.mp4):
#
#   bash scripts/before-after.sh [OUTPUT.png]     # default docs/img/watermark-before-after.png
set -euo pipefail
cd "$(dirname "$0")/.."
input=examples/media/watermarked.mp4
output=examples/out/watermark-removed.mp4
png="${1:-docs/img/watermark-before-after.png}"
[ -f "$output" ] || { echo "no $output: run scripts/demo.sh first" >&2; exit 1; }
mkdir -p "$(dirname "$png")"
# The mask is [1080, 620, 160, 80]: a margin of 40 pixels around it, at 2x.
crop="crop=240:160:1040:580,scale=480:320:flags=neighbor"
pick() { echo "select=eq(n\,$1),$crop"; }
ffmpeg -nostdin -hide_banner -loglevel error -y -i "$input" -i "$output" -filter_complex \
  "[0:v]split[a][b];[1:v]split[c][d];[a]$(pick 30)[a1];[b]$(pick 120)[b1];[c]$(pick 30)[c1];[d]$(pick 120)[d1];[a1][b1]hstack[top];[c1][d1]hstack[bottom];[top][bottom]vstack=inputs=2" \
  -frames:v 1 -update 1 "$png" </dev/null
echo "wrote $png (top: input, bottom: framejet; frames 30 and 120)"
