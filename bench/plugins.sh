#!/usr/bin/env bash
# Plugin runtime benchmark: cold and warm load, instantiation, and call
# latency of the shipped plugins. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# The benchmarks run the plugins as built here.
export FRAMEJET_PLUGIN_PATH="$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release"
bash scripts/build-plugins.sh >/dev/null
cargo bench --quiet -p framejet --bench plugin_runtime
