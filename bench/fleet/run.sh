#!/usr/bin/env bash
# The fleet's benchmarks, side by side with what users would otherwise run:
#
#   bench/fleet/run.sh                     # both, 10,000 dispatch tasks (about 10 minutes)
#   bench/fleet/run.sh --tasks 2000        # a quicker dispatch run
#   bench/fleet/run.sh --only dispatch     # or: overhead
#
# dispatch.py  10,000 no-op tasks on 2 framejet workers against Celery 5 on Redis with 2
#              `--pool=solo` workers: burst, paced 200/s and 700/s, drain; p50/p99 from
#              publish to start, tasks/s, lost, run twice.
# overhead.py  one 720p → 1080p job (fit, logo, text, x264) as `framejet run --jobs 1` on one
#              core, on a one-worker fleet and on a two-worker fleet (each worker on its own
#              core), 10 s and 60 s inputs; the workers' peak memory.
#
# Installs what is missing (redis-server with apt, Celery and nats-py with pip, nats-server),
# builds and installs framejet (scripts/install.sh), and writes bench/out/fleet.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tasks=10000
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --tasks) shift; tasks=$1 ;;
        --only) shift; only=$1 ;;
        -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
bash "$root/scripts/setup.sh"
if ! command -v redis-server >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get install -y -qq redis-server >/dev/null
fi
if ! python3 -c "import celery, redis" >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "celery[redis]>=5.4,<6" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "celery[redis]>=5.4,<6"
fi
source "$root/scripts/env.sh"
bash "$root/scripts/install.sh"
framejet="${FRAMEJET_PREFIX:-${CARGO_HOME:-$HOME/.cargo}}/bin/framejet"
mkdir -p "$root/bench/out"
out="$root/bench/out/fleet.md"
: > "$out"
if [ -z "$only" ] || [ "$only" = dispatch ]; then
    python3 "$root/bench/fleet/dispatch.py" --framejet "$framejet" --tasks "$tasks" --out "$root/bench/out/fleet-dispatch.md"
    { echo "## Dispatch"; echo; cat "$root/bench/out/fleet-dispatch.md"; echo; } >> "$out"
fi
if [ -z "$only" ] || [ "$only" = overhead ]; then
    python3 "$root/bench/fleet/overhead.py" --framejet "$framejet" --out "$root/bench/out/fleet-overhead.md"
    { echo "## Overhead and scale"; echo; cat "$root/bench/out/fleet-overhead.md"; } >> "$out"
fi
echo "written: $out"
