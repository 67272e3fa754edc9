#!/usr/bin/env bash
# Installs `framejet` where a new login shell finds it, with what it needs at
# run time beside it:
#
#   <prefix>/bin/framejet                 the binary (cargo install)
#   <prefix>/share/framejet/plugins/      the shipped plugins (no test plugins)
#   <prefix>/share/framejet/sdk, wit/     the SDK `framejet plugin new` builds against
#
# <prefix> is $FRAMEJET_PREFIX, else cargo's install root ($CARGO_HOME,
# ~/.cargo), whose bin/ rustup puts on the login PATH. Builds the plugins and
# the release binary when they are missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
prefix="${FRAMEJET_PREFIX:-${CARGO_HOME:-$HOME/.cargo}}"

# The plugins that ship; plugins/broken/ holds test fixtures, never installed.
shipped=(route_by_size segment_keyframes overlay_logo text_reveal invert_luma)

bash scripts/build-plugins.sh >/dev/null
cargo install --quiet --locked --path host --root "$prefix" --force

share="$prefix/share/framejet"
# Replace the previous install's data whole, so nothing stale stays behind.
rm -rf "$share.new"
mkdir -p "$share.new/plugins" "$share.new/sdk"
for p in "${shipped[@]}"; do
  cp "$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release/$p.wasm" "$share.new/plugins/"
done
cp -r sdk/Cargo.toml sdk/README.md sdk/src sdk/fonts sdk/templates "$share.new/sdk/"
cp -r wit "$share.new/wit"
rm -rf "$share"
mv "$share.new" "$share"

echo "installed: $prefix/bin/framejet"
echo "plugins:   $share/plugins (${#shipped[@]} shipped)"
echo "sdk:       $share/sdk"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on this shell's PATH; a new login shell has it when rustup set up ~/.profile, else add it" ;;
esac
