#!/usr/bin/env bash
# Plugin runtime benchmark: cold and warm load, instantiation, and call
# latency of the shipped plugins. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/build-plugins.sh >/dev/null
cargo bench --quiet -p framejet --bench plugin_runtime
