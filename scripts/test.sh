#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds and installs framejet as the quick start does, then runs
# the checks a reviewer would (format, lints, docs) and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/install.sh
bash examples/make-media.sh
# The tests use the broken plugins too: the whole plugin build goes on the path.
export FRAMEJET_PLUGIN_PATH="$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release${FRAMEJET_PLUGIN_PATH:+:$FRAMEJET_PLUGIN_PATH}"
echo "== cargo fmt --check"
cargo fmt --all --check
cargo fmt --all --check --manifest-path plugins/Cargo.toml
echo "== cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
echo "== framejet-spec stays light (no FFmpeg, no wasmtime)"
if cargo tree --quiet -p framejet-spec -e normal --prefix none | grep -E "^(ffmpeg|wasmtime)"; then
  echo "framejet-spec depends on the crates above; clients must not link them" >&2
  exit 1
fi
echo "== framejet-gpu stays bare (no FFmpeg, no wasmtime: its tests run on a bare CUDA machine)"
if cargo tree --quiet -p framejet-gpu -e normal --prefix none | grep -E "^(ffmpeg|wasmtime)"; then
  echo "framejet-gpu depends on the crates above" >&2
  exit 1
fi
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --workspace --no-deps --document-private-items
echo "== plugin unit tests"
cargo test --quiet --manifest-path plugins/Cargo.toml --target-dir "$FRAMEJET_PLUGINS_TARGET/native"
echo "== host, sdk, media, inpaint, gpu and end-to-end tests"
test_log=$(mktemp)
trap 'rm -f "$test_log"' EXIT
cargo test --workspace 2>&1 | tee "$test_log"
# The GPU tests that found no GPU report `ignored (skipped: <reason>)`: count them here, so
# that a run without a GPU says so instead of passing silently.
skipped=$(grep -c "ignored (skipped: " "$test_log" || true)
if [ "$skipped" -gt 0 ]; then
  reason=$(sed -n 's/.*ignored (skipped: \(.*\))$/\1/p' "$test_log" | head -n 1)
  echo "== GPU tests skipped: $skipped ($reason)"
else
  echo "== GPU tests: none skipped"
fi
echo "== watermark removal against the classic filters, cut into 1, 2 and 4 segments"
bash bench/inpaint/corpus.sh --segments 1,2,4 --check
