#!/usr/bin/env bash
# Builds every plugin in plugins/ for wasm32-wasip2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --quiet --release --target wasm32-wasip2 \
  --manifest-path plugins/Cargo.toml --target-dir "$FRAMEJET_PLUGINS_TARGET"
echo "plugins: $(ls "$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release/"*.wasm | wc -l) components in $FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release"
