#!/usr/bin/env bash
# framejet against the FFmpeg command line a user would otherwise run, measured side by side:
# a 1280x720 30 fps input scaled and padded to 1920x1080, a logo (PNG with alpha) top-right
# with a 24 px margin, libx264 veryfast CRF 23, AAC 192k audio.
#
#   bench/media/run.sh                      # 10 s and 60 s inputs, 3 runs each (about 7 minutes on
#                                           # 2 idle cores; longer when the machine is shared)
#   bench/media/run.sh --lengths 10 --runs 1
#   bench/media/run.sh --source mandelbrot  # harder-to-encode input (slower to generate)
#
# For each input length it times, each --runs times (interleaved, median reported):
#   ffmpeg      ffmpeg -i in.mp4 -i logo.png -filter_complex "scale,pad,overlay" -c:v libx264 ...
#   framejet    framejet run job.json        (--jobs default: the number of cores)
#   framejet-j1 framejet run job.json --jobs 1
# with the peak RSS from `/usr/bin/time -v`, then checks the outputs against each other
# (frame count, 1920x1080, AAC audio, PSNR > 30 dB with ffmpeg's psnr filter) and writes a
# markdown table to bench/out/media.md. Inputs, specs, outputs and logs go to bench/out/media.
#
# Needs ffmpeg/ffprobe (with libx264 and libmp3lame), cargo, python3, and GNU time (installed
# with apt-get when missing). The input audio is MP3 so that both tools decode it and encode
# AAC (framejet copies an AAC source that covers the whole output instead of re-encoding it).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/out/media"
table="$root/bench/out/media.md"
lengths="10 60"
runs=3
source=testsrc2
build=1

usage() { sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --lengths) shift; lengths=${1//,/ } ;;
        --runs) shift; runs=$1 ;;
        --source) shift; source=$1 ;;
        --no-build) build=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case "$source" in testsrc2|mandelbrot) ;; *) echo "--source: testsrc2 or mandelbrot" >&2; exit 2 ;; esac
mkdir -p "$out"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools ------------------------------------------------------------------------------------
if ! [ -x /usr/bin/time ]; then
    log "installing GNU time"
    if [ "$(id -u)" = 0 ]; then apt-get install -y time >/dev/null; else sudo apt-get install -y time >/dev/null; fi
fi
for t in ffmpeg ffprobe python3; do
    command -v "$t" >/dev/null || { echo "$t is needed" >&2; exit 1; }
done

source "$root/scripts/env.sh"
# The benchmarks run the plugins as built here.
export FRAMEJET_PLUGIN_PATH="$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release"
bin="$CARGO_TARGET_DIR/release/framejet"
if [ "$build" = 1 ]; then
    # A no-op when the binary is up to date; waits on cargo's lock when another build runs.
    log "cargo build --release -p framejet"
    cargo build --release --quiet -p framejet --manifest-path "$root/Cargo.toml"
fi
[ -x "$bin" ] || { echo "no $bin (run without --no-build)" >&2; exit 1; }
if ! [ -f "$FRAMEJET_PLUGINS_TARGET/wasm32-wasip2/release/overlay_logo.wasm" ]; then
    log "building the plugins"
    bash "$root/scripts/build-plugins.sh"
fi

# --- inputs -----------------------------------------------------------------------------------
logo="$out/logo.png"
if ! [ -s "$logo" ]; then
    # 200x100 RGBA: a colour gradient in a rounded, semi-transparent-edged lozenge.
    ffmpeg -nostdin -loglevel error -y -f lavfi -i "color=c=black:s=200x100,format=rgba" -frames:v 1 \
        -vf "geq=r='255*X/W':g='90+120*Y/H':b='255*(1-X/W)':a='clip(255*(1-hypot((X-100)/100,(Y-50)/50))*3,0,230)'" \
        "$logo"
fi
for len in $lengths; do
    src="$out/in_${source}_${len}s.mp4"
    [ -s "$src" ] && continue
    log "generating $src"
    case "$source" in
        testsrc2) video="testsrc2=size=1280x720:rate=30:duration=$len" ;;
        mandelbrot) video="mandelbrot=size=1280x720:rate=30,trim=duration=$len" ;;
    esac
    ffmpeg -nostdin -loglevel error -y \
        -f lavfi -i "$video" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$len" \
        -map 0:v -map 1:a -c:v libx264 -preset fast -crf 20 -g 60 -pix_fmt yuv420p \
        -c:a libmp3lame -b:a 128k -ac 2 -shortest "$src.tmp.mp4"
    mv "$src.tmp.mp4" "$src"
done

# --- job specs --------------------------------------------------------------------------------
for len in $lengths; do
    cat > "$out/job_${len}s.json" <<JSON
{
  "inputs": [
    {"src": "in_${source}_${len}s.mp4", "assets": {"logo": "logo.png"}}
  ],
  "steps": [
    {"native": "fit", "width": 1920, "height": 1080, "mode": "pad"},
    {"plugin": "overlay-logo", "params": {"asset": "logo", "corner": "top-right", "margin": 24}}
  ],
  "output": {
    "video": {"codec": "h264", "rate": {"crf": 23}, "preset": "veryfast", "hw": "cpu"},
    "audio": {"codec": "aac", "bitrate": "192k"}
  }
}
JSON
done

filter="[0:v]scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2[bg];[bg][1:v]overlay=W-w-24:24"
tools="ffmpeg framejet framejet-j1"

# One timed run: wall time (ns clock), peak RSS and CPU time from GNU time.
results="$out/results.tsv"
: > "$results"
timed() { # tool len run
    local tool=$1 len=$2 run=$3 dst="$out/${1}_${2}s.mp4" t0 t1
    rm -f "$dst" "$dst.log"
    local -a cmd
    if [ "$tool" = ffmpeg ]; then
        cmd=(ffmpeg -nostdin -loglevel error -y -i "$out/in_${source}_${len}s.mp4" -i "$logo"
            -filter_complex "$filter" -c:v libx264 -preset veryfast -crf 23 -c:a aac -b:a 192k "$dst")
    else
        cmd=("$bin" run "$out/job_${len}s.json" -o "$dst" -y)
        [ "$tool" = framejet-j1 ] && cmd+=(--jobs 1)
    fi
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$out/time.txt" "${cmd[@]}" >"$out/${tool}_${len}s.stdout" 2>"$out/${tool}_${len}s.stderr" \
        || { cat "$out/${tool}_${len}s.stderr" >&2; echo "$tool failed" >&2; exit 1; }
    t1=$(date +%s%N)
    local rss user sys
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
    user=$(awk -F': ' '/User time/ {print $2}' "$out/time.txt")
    sys=$(awk -F': ' '/System time/ {print $2}' "$out/time.txt")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$len" "$tool" "$run" "$(( (t1 - t0) / 1000000 ))" "$rss" "$user" "$sys" >> "$results"
    log "$(printf '%-12s %3ss run %s: %6.2f s wall, %5d MiB peak RSS' "$tool" "$len" "$run" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1e9}')" "$(( rss / 1024 ))")"
}

cores=$(nproc)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Warm framejet's compiled-plugin cache, so that no timed run pays for compiling the plugins.
first=${lengths%% *}
log "warm-up: framejet run ${first}s (compiles the plugins once, untimed)"
"$bin" run "$out/job_${first}s.json" -o "$out/warmup.mp4" -y >/dev/null 2>&1 || true
rm -f "$out/warmup.mp4" "$out/warmup.mp4.log"

for len in $lengths; do
    for run in $(seq 1 "$runs"); do
        # Interleaved, so that a change in the machine's load hits every tool alike.
        for tool in $tools; do timed "$tool" "$len" "$run"; done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- checks -----------------------------------------------------------------------------------
checks="$out/checks.tsv"
: > "$checks"
for len in $lengths; do
    ref="$out/ffmpeg_${len}s.mp4"
    for tool in $tools; do
        f="$out/${tool}_${len}s.mp4"
        info=$(ffprobe -v error -select_streams v:0 -count_packets \
            -show_entries stream=width,height,nb_read_packets -of csv=p=0 "$f")
        acodec=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 "$f")
        dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
        psnr=-
        if [ "$tool" != ffmpeg ]; then
            psnr=$(ffmpeg -nostdin -hide_banner -i "$f" -i "$ref" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 \
                | sed -n 's/.*PSNR y:\([0-9.inf]*\) u:[0-9.inf]* v:[0-9.inf]* average:\([0-9.inf]*\).*/\2 \1/p' | tail -1)
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$len" "$tool" "$info" "$acodec" "$dur" "$psnr" "$(stat -c %s "$f")" >> "$checks"
    done
done

# --- table ------------------------------------------------------------------------------------
python3 - "$results" "$checks" "$table" "$out" <<PY
import csv, statistics, sys, json, re, os
results, checks, table, out = sys.argv[1:5]
rows = list(csv.reader(open(results), delimiter="\t"))
by = {}
for len_, tool, run, ms, rss, user, sys_ in rows:
    by.setdefault((int(len_), tool), []).append((int(ms) / 1000, int(rss) / 1024, float(user) + float(sys_)))
tools = "$tools".split()
lines = []
p = lines.append
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
ffv = os.popen("ffmpeg -version").readline().split()[2]
commit = os.popen("git -C '$root' rev-parse --short HEAD 2>/dev/null").read().strip() or "?"
dirty = " (with uncommitted changes)" if os.popen("git -C '$root' status --porcelain --untracked-files=no 2>/dev/null").read().strip() else ""
p("# framejet vs the FFmpeg command line: 720p -> 1080p pad + logo, x264 veryfast CRF 23, AAC")
p("")
p(f"- machine: {cpu}, **nproc = $cores** (FFmpeg's x264 and decoder use all of them; framejet runs")
p(f"  \`--jobs N\` segments (default N = nproc), each with x264 threads = min(ceil(1.5 * nproc), 2 * ceil(nproc / min(N, segments))))")
p(f"- load average before / after: $load_before / $load_after (the machine may be shared)")
p(f"- FFmpeg {ffv}; framejet {commit}{dirty}; input: $source 1280x720 30 fps, H.264 (-g 60), MP3 stereo 48 kHz")
p(f"- {int('$runs')} runs per tool, interleaved; wall time and CPU time (user + sys) are medians, peak RSS the max")
p("- on a shared machine wall time depends on what else runs; CPU s (the work done) is the steadier measure")
p("")
p("| input | tool | wall s (median) | fps | CPU s | CPU use | peak RSS MiB | ratio framejet/ffmpeg |")
p("|---|---|---|---|---|---|---|---|")
med = {}
for len_ in sorted({k[0] for k in by}):
    frames = len_ * 30
    for tool in tools:
        r = by.get((len_, tool))
        if not r: continue
        wall = statistics.median(x[0] for x in r)
        cpu_s = statistics.median(x[2] for x in r)
        rss = max(x[1] for x in r)
        med[(len_, tool)] = (wall, rss)
        base = med.get((len_, "ffmpeg"))
        ratio = "1.00 (baseline)" if tool == "ffmpeg" else (f"**{wall / base[0]:.2f}**" if base else "-")
        p(f"| {len_} s | {tool} | {wall:.2f} | {frames / wall:.1f} | {cpu_s:.1f} | {cpu_s / wall:.2f} cores | {rss:.0f} | {ratio} |")
p("")
p("All runs (wall s): " + "; ".join(
    f"{l} s {t}: " + ", ".join(f"{x[0]:.2f}" for x in by[(l, t)]) for (l, t) in sorted(by, key=lambda k: (k[0], tools.index(k[1])))))
p("")
# framejet's own stage timings, from the last run's job log.
p("framejet stage timings (last run, from \`<output>.log\`):")
p("")
for (len_, tool) in sorted(med):
    if tool == "ffmpeg": continue
    path = f"{out}/{tool}_{len_}s.mp4.log"
    try: text = open(path).read()
    except OSError: continue
    m = re.search(r"timings: plan (\d+) ms, segments (\d+) ms(?: \(audio encoded beside them in (\d+) ms\))?, finalize (\d+) ms", text)
    segs = re.findall(r"segment (\d+) done: (\d+) frames, \d+ bytes, (\d+) ms", text)
    if m:
        seg_desc = ", ".join(f"#{i} {f} fr {int(ms)/1000:.1f} s" for i, f, ms in segs)
        audio = f" (audio beside them {int(m[3])/1000:.2f} s)" if m[3] else ""
        p(f"- {len_} s {tool}: plan {int(m[1])/1000:.2f} s, segments {int(m[2])/1000:.2f} s{audio}, finalize {int(m[4])/1000:.2f} s; {len(segs)} segment{'' if len(segs) == 1 else 's'} ({seg_desc})")
p("")
p("Checks (against the FFmpeg output of the same input):")
p("")
p("| input | tool | size | frames | audio | duration s | file MiB | video+audio Mbit/s | PSNR vs ffmpeg dB | ok |")
p("|---|---|---|---|---|---|---|---|---|---|")
failed = []
ref = {}
for len_, tool, info, acodec, dur, psnr, size in csv.reader(open(checks), delimiter="\t"):
    w, h, n = info.split(",")
    if tool == "ffmpeg": ref[len_] = int(n)
    ok = (w, h) == ("1920", "1080") and int(n) == ref.get(len_) and int(n) == int(len_) * 30 and acodec == "aac"
    if tool != "ffmpeg":
        v = psnr.split()[0] if psnr else "0"
        ok = ok and (v == "inf" or float(v) > 30)
    if not ok: failed.append(f"{len_} s {tool}")
    shown = "-" if tool == "ffmpeg" else (" ".join([f"{float(psnr.split()[0]):.2f}", f"(Y {float(psnr.split()[1]):.2f})"]) if psnr else "?")
    p(f"| {len_} s | {tool} | {w}x{h} | {n} | {acodec} | {float(dur):.2f} | {int(size) / 2**20:.1f} | {int(size) * 8 / float(dur) / 1e6:.2f} | {shown} | {'yes' if ok else '**NO**'} |")
p("")
p("Targets:")
p("")
for len_ in sorted({k[0] for k in med}):
    if (len_, "ffmpeg") in med and (len_, "framejet") in med:
        r = med[(len_, "framejet")][0] / med[(len_, "ffmpeg")][0]
        p(f"- {len_} s: framejet/ffmpeg wall-time ratio {r:.2f} (target <= 1.00): {'met' if r <= 1.0 else '**missed**'}")
lens = sorted({k[0] for k in med})
if len(lens) >= 2:
    for tool in tools:
        a, b = med.get((lens[0], tool)), med.get((lens[-1], tool))
        if a and b:
            p(f"- peak RSS {tool}: {a[1]:.0f} MiB at {lens[0]} s, {b[1]:.0f} MiB at {lens[-1]} s ({(b[1] / a[1] - 1) * 100:+.0f} %)")
open(table, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
if failed:
    print("checks failed: " + ", ".join(failed), file=sys.stderr)
    sys.exit(1)
PY
