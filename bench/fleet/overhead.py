"""Fleet overhead and scale: one job three ways, in one run.

A 1280x720 input brought to 1920x1080 (`fit`), a logo and a text overlay,
libx264 veryfast, run by
  - `framejet run --jobs 1` on one core (taskset) with one encoder thread;
  - a fleet of one worker pinned to one core, one slot, one encoder thread;
  - a fleet of two such workers, each on its own core,
so that this 2-core machine models two machines. nats-server and the
planner are not pinned. Two `framejet run --jobs 1` at once, one per core,
show what the two cores give together (they slow each other down), the
ceiling for two workers. Times are from `framejet submit` to the output on
disk (upload and download included); the workers' peak RSS comes from
/proc (VmHWM), for a short and a long input, to show it does not grow
with the video.

    python3 overhead.py --framejet PATH [--lengths 10,60] [--out FILE]
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

from procs import ffmpeg, nats_server, report, stop


def make_inputs(dir, seconds):
    clip = os.path.join(dir, f"in-{seconds}s.mp4")
    if not os.path.exists(clip):
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=1280x720:rate=30:d={seconds}",
               "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={seconds}",
               "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-pix_fmt", "yuv420p",
               "-c:a", "aac", clip)
    logo = os.path.join(dir, "logo.png")
    if not os.path.exists(logo):
        ffmpeg("-f", "lavfi", "-i", "color=c=white@0.6:s=240x80,format=rgba", "-frames:v", "1", logo)
    spec = os.path.join(dir, f"job-{seconds}s.json")
    with open(spec, "w") as f:
        json.dump({
            "inputs": [{"src": clip, "assets": {"logo": logo}}],
            "steps": [
                {"native": "fit", "width": 1920, "height": 1080, "mode": "pad"},
                {"plugin": "overlay-logo", "params": {"asset": "logo", "corner": "top-right"}},
                {"plugin": "text-reveal", "params": {"words": ["FLEET"], "size": 72}},
            ],
            # Segments of 10 s: enough for two workers, the same for every way.
            "segment": {"plugin": "segment-keyframes", "params": {"target_seconds": 10, "min_segments": 2}},
            "output": {"video": {"codec": "h264", "preset": "veryfast", "rate": {"crf": 23}},
                       "audio": {"codec": "aac"}},
        }, f)
    return spec


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_local(fj, spec, out):
    t = time.perf_counter()
    subprocess.run(["taskset", "-c", "0", fj, "run", spec, "-o", out, "--jobs", "1", "-y"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "RUST_LOG": "warn"})
    return time.perf_counter() - t


def run_pair(fj, spec, outs):
    """Two `framejet run --jobs 1` at once, one per core: what two workers
    on this machine can reach at best (its cores slow each other down)."""
    t = time.perf_counter()
    procs = [subprocess.Popen(["taskset", "-c", str(n), fj, "run", spec, "-o", out, "--jobs", "1", "-y"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "RUST_LOG": "warn"})
             for n, out in enumerate(outs)]
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("framejet run failed")
    return time.perf_counter() - t


def run_fleet(fj, spec, out, workers):
    store = tempfile.mkdtemp(prefix="fj-overhead-")
    server, url = nats_server(store)
    env = {**os.environ, "RUST_LOG": "warn"}
    procs = [subprocess.Popen([fj, "planner", "--nats", url, "--encoder-threads", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    for n in range(workers):
        procs.append(subprocess.Popen(
            ["taskset", "-c", str(n), fj, "worker", "--nats", url, "--slots", "1",
             "--encoder-threads", "1", "--id", f"w{n}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    time.sleep(1.5)
    try:
        t = time.perf_counter()
        subprocess.run([fj, "submit", "--nats", url, spec, "-o", out, "-y"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        elapsed = time.perf_counter() - t
        rss = [peak_rss_mib(p.pid) for p in procs[1:]]
    finally:
        stop(procs)
        server.terminate()
        server.wait()
        shutil.rmtree(store, ignore_errors=True)
    return elapsed, max(rss)


def frames(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
                          "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framejet", required=True)
    ap.add_argument("--lengths", default="10,60")
    ap.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "..", "out", "fleet"))
    ap.add_argument("--out")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    rows = []
    for seconds in [int(s) for s in args.lengths.split(",")]:
        spec = make_inputs(args.dir, seconds)
        local = run_local(args.framejet, spec, os.path.join(args.dir, f"local-{seconds}.mp4"))
        pair = run_pair(args.framejet, spec,
                        [os.path.join(args.dir, f"pair{n}-{seconds}.mp4") for n in (0, 1)])
        # Two jobs in `pair` seconds: the speed-up two workers could reach.
        ceiling = 2 * local / pair
        one, rss1 = run_fleet(args.framejet, spec, os.path.join(args.dir, f"one-{seconds}.mp4"), 1)
        two, rss2 = run_fleet(args.framejet, spec, os.path.join(args.dir, f"two-{seconds}.mp4"), 2)
        n = frames(os.path.join(args.dir, f"local-{seconds}.mp4"))
        for name in ("one", "two"):
            assert frames(os.path.join(args.dir, f"{name}-{seconds}.mp4")) == n
        rows.append((seconds, local, one, two, ceiling, rss1, rss2))
        print(f"{seconds:3} s input: run --jobs 1 {local:7.2f} s | one worker {one:7.2f} s "
              f"({one / local:.2f}×) | two workers {two:7.2f} s ({one / two:.2f}× faster; "
              f"two runs at once reach {ceiling:.2f}×) | worker peak RSS {rss1:.0f} / {rss2:.0f} MiB",
              flush=True)
    lines = ["| input | `framejet run --jobs 1` s | one worker s | one / run | two workers s | one / two | two `run`s at once | worker peak RSS MiB (one, two) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for seconds, local, one, two, ceiling, rss1, rss2 in rows:
        lines.append(f"| {seconds} s 720p → 1080p | {local:.2f} | {one:.2f} | {one / local:.2f}× | "
                     f"{two:.2f} | {one / two:.2f}× | {ceiling:.2f}× | {rss1:.0f}, {rss2:.0f} |")
    report("\n".join(lines), args.out)


main()
