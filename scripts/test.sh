#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds the plugins, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/build-plugins.sh
echo "== plugin unit tests"
cargo test --quiet --manifest-path plugins/Cargo.toml --target-dir "$FRAMEJET_PLUGINS_TARGET/native"
echo "== host, sdk, media, inpaint and end-to-end tests"
cargo test --workspace
