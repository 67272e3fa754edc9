# Sourced by the scripts: where builds go. Build outputs live outside the
# checkout so a fresh clone (CI) reuses earlier builds. The plugins built
# here include the broken test fixtures, so this does not put them on
# framejet's plugin search path: the installed binary finds the shipped ones
# (scripts/install.sh), and scripts/test.sh adds the whole build for the tests.
: "${FRAMEJET_BUILD_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/framejet}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$FRAMEJET_BUILD_DIR/target}"
export FRAMEJET_PLUGINS_TARGET="${FRAMEJET_PLUGINS_TARGET:-$FRAMEJET_BUILD_DIR/plugins-target}"
