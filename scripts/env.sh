# Sourced by the scripts: where builds go. Build outputs live outside the
# checkout so a fresh clone (CI) reuses earlier builds.
: "${FRAMEJET_BUILD_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/framejet}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$FRAMEJET_BUILD_DIR/target}"
export FRAMEJET_PLUGINS_TARGET="${FRAMEJET_PLUGINS_TARGET:-$FRAMEJET_BUILD_DIR/plugins-target}"
export FRAMEJET_PLUGIN_PATH="$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release${FRAMEJET_PLUGIN_PATH:+:$FRAMEJET_PLUGIN_PATH}"
