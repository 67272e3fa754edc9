#!/usr/bin/env bash
# The README's watermark-removal job, on the CPU and on the GPU (where one is), with where
# each segment's time went: wall time per run, and per segment the busy time of decoding,
# the steps and encoding (the job log's `segment` lines). Writes bench/out/gpu-job.md.
#
#   bash bench/gpu/job.sh [--runs N]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
runs=3
if [ "${1:-}" = "--runs" ]; then runs=$2; fi
cargo build --release -q -p framejet
bash examples/make-media.sh
framejet="$CARGO_TARGET_DIR/release/framejet"
export FRAMEJET_PLUGIN_PATH="$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release"
out=bench/out/gpu-job.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
choices=(off)
if "$framejet" gpu info --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["gpus"] else 1)'; then
  choices+=(auto)
else
  echo "no GPU: the job runs on the CPU only" >&2
fi
{
  echo "| --gpu | best wall time (s) of $runs | segment lines of the best run |"
  echo "|---|---:|---|"
  for choice in "${choices[@]}"; do
    best=""
    for _ in $(seq "$runs"); do
      start=$(date +%s.%N)
      if ! "$framejet" run examples/watermark-removal.json -o "$work/out.mp4" -y --gpu "$choice" \
        >"$work/stdout" 2>&1; then
        cat "$work/stdout" >&2
        exit 1
      fi
      t=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
      if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then
        best=$t
        lines=$(grep -E "step \`(segment|decode|encode)\`" "$work/out.mp4.log" | sed 's/.*step `[a-z]*`: //' | paste -sd ';' -)
      fi
    done
    echo "| $choice | $best | $lines |"
  done
} | tee "$out"
echo "table: $out"
