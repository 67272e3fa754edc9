#!/usr/bin/env bash
# The gateway's latency while the fleet encodes, side by side with FastAPI:
#
#   bench/gateway/run.sh                   # 1,000 requests of each kind, 100 submits (about 3 minutes)
#   bench/gateway/run.sh --requests 300    # a quicker run
#
# latency.py  `GET /healthz`, `GET` of a job's record and `POST` of a job, timed one after another
#             while two framejet workers encode six queued jobs (720p, a logo and a caption,
#             x264), and the same against a FastAPI app under uvicorn whose jobs run OpenCV and
#             numpy in a two-thread ThreadPoolExecutor (fastapi_app.py); p50/p99/max.
#
# Installs what is missing (FastAPI, uvicorn, OpenCV and numpy with pip, nats-server), builds
# and installs framejet (scripts/install.sh), and writes bench/out/gateway.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --requests|--submits|--seconds) args+=("$1" "$2"); shift ;;
        -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
bash "$root/scripts/setup.sh"
if ! python3 -c "import fastapi, uvicorn, cv2, numpy" >/dev/null 2>&1; then
    pkgs=(fastapi "uvicorn>=0.30" opencv-python-headless numpy)
    python3 -m pip install --quiet --disable-pip-version-check "${pkgs[@]}" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${pkgs[@]}"
fi
source "$root/scripts/env.sh"
bash "$root/scripts/install.sh"
framejet="${FRAMEJET_PREFIX:-${CARGO_HOME:-$HOME/.cargo}}/bin/framejet"
mkdir -p "$root/bench/out"
python3 "$root/bench/gateway/latency.py" --framejet "$framejet" --out "$root/bench/out/gateway.md" "${args[@]}"
echo "written: $root/bench/out/gateway.md"
