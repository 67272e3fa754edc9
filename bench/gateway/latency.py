"""The gateway's latency while the fleet is saturated, side by side with a
FastAPI app under uvicorn doing the same kind of work in a ThreadPoolExecutor.

For each server: a 720p input and a logo; six branding jobs submitted (a
logo and a caption on every frame, re-encoded), two running at once (two
framejet workers with one slot and one encoder thread each; two executor
threads), the rest queued; once both are busy, one client sends, one after
another over a kept-alive connection, `GET /healthz`, `GET` of a running
job's record and `POST` of a new job (answered once it is queued), and
times each. The servers are checked to be still busy at the end.

    python3 latency.py --framejet PATH [--requests 1000] [--submits 100] [--out FILE]
"""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fleet"))
from procs import ffmpeg, free_port, nats_server, report, start_server, stop, wait_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
JOBS = 6
GAP_S = 0.002


def make_inputs(dir, seconds):
    clip = os.path.join(dir, f"in-{seconds}s.mp4")
    if not os.path.exists(clip):
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=1280x720:rate=30:d={seconds}",
               "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-pix_fmt", "yuv420p", clip)
    logo = os.path.join(dir, "logo.png")
    if not os.path.exists(logo):
        ffmpeg("-f", "lavfi", "-i", "color=c=white@0.6:s=240x80,format=rgba", "-frames:v", "1", logo)
    return clip, logo


class Client:
    """One kept-alive HTTP/1.1 connection; each call timed in ms."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, expect=200):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        start = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        took = (time.perf_counter() - start) * 1000
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return took, data

    def upload(self, path, name):
        with open(path, "rb") as f:
            self.conn.request("PUT", f"/v1/media/{name}", body=f,
                              headers={"Content-Length": str(os.path.getsize(path))})
            response = self.conn.getresponse()
            data = response.read()
        if response.status != 200:
            raise RuntimeError(f"upload {name}: {response.status} {data!r}")


def measure(client, method, path, n, body=None, expect=200):
    times = []
    for _ in range(n):
        took, _ = client.call(method, path, body, expect)
        times.append(took)
        time.sleep(GAP_S)
    return times


def percentiles(times):
    times = sorted(times)
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    return pick(0.50), pick(0.99), times[-1]


def wait_for(what, done, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if done():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def bench_framejet(fj, clip, logo, requests, submits):
    store = tempfile.mkdtemp(prefix="fj-gateway-bench-")
    server, url = nats_server(store)
    env = {**os.environ, "RUST_LOG": "warn"}
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    port = free_port()
    procs = [start_server([fj, "gateway", "--nats", url, "--listen", f"127.0.0.1:{port}"], port),
             subprocess.Popen([fj, "planner", "--nats", url, "--encoder-threads", "1"], **quiet)]
    for n in range(2):
        procs.append(subprocess.Popen([fj, "worker", "--nats", url, "--slots", "1",
                                       "--encoder-threads", "1", "--id", f"w{n}"], **quiet))
    try:
        client = Client(port)
        client.upload(clip, "clip.mp4")
        client.upload(logo, "logo.png")
        spec = json.dumps({
            "inputs": [{"src": "media:clip.mp4", "assets": {"logo": "media:logo.png"}}],
            "steps": [
                {"plugin": "overlay-logo", "params": {"asset": "logo", "corner": "top-right"}},
                {"plugin": "text-reveal", "params": {"words": ["FLEET"], "size": 72}},
            ],
            "output": {"video": {"codec": "h264", "preset": "veryfast"}, "audio": {"codec": "none"}},
        })
        ids = [json.loads(client.call("POST", "/v1/jobs", spec, 201)[1])["id"] for _ in range(JOBS)]

        def busy():
            workers = json.loads(client.call("GET", "/v1/workers")[1])
            return sum(w["busy"] for w in workers)

        wait_for("both framejet workers busy", lambda: busy() >= 2)
        healthz = measure(client, "GET", "/healthz", requests)
        record = measure(client, "GET", f"/v1/jobs/{ids[0]}", requests)
        submit = measure(client, "POST", "/v1/jobs", submits, spec, 201)
        still = busy()
        return healthz, record, submit, still
    finally:
        stop(procs)
        server.terminate()
        server.wait()
        shutil.rmtree(store, ignore_errors=True)


def bench_fastapi(clip, logo, requests, submits, threads):
    out = tempfile.mkdtemp(prefix="fastapi-bench-")
    port = free_port()
    env = {**os.environ, "BENCH_THREADS": str(threads)}
    app = subprocess.Popen([sys.executable, "-m", "uvicorn", "fastapi_app:app", "--app-dir", HERE,
                            "--port", str(port), "--log-level", "warning", "--no-access-log"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_port(port, timeout=30)
        client = Client(port)
        n = [0]

        def job():
            n[0] += 1
            return json.dumps({"src": clip, "logo": logo, "out": os.path.join(out, f"{n[0]}.mp4")})

        ids = [json.loads(client.call("POST", "/jobs", job(), 201)[1])["id"] for _ in range(JOBS)]

        def running():
            return sum(json.loads(client.call("GET", f"/jobs/{i}")[1])["state"] == "running" for i in ids)

        wait_for("both FastAPI threads busy", lambda: running() >= 2)
        healthz = measure(client, "GET", "/healthz", requests)
        record = measure(client, "GET", f"/jobs/{ids[0]}", requests)
        submit = []
        for _ in range(submits):
            took, _ = client.call("POST", "/jobs", job(), 201)
            submit.append(took)
            time.sleep(GAP_S)
        still = running()
        return healthz, record, submit, still
    finally:
        stop([app])
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framejet", required=True)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--submits", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=60, help="length of the input")
    ap.add_argument("--dir", default=os.path.join(HERE, "..", "out", "gateway"))
    ap.add_argument("--out")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    clip, logo = make_inputs(args.dir, args.seconds)
    fj = bench_framejet(args.framejet, clip, logo, args.requests, args.submits)
    print(f"framejet: done, {fj[3]} task(s) still running at the end", flush=True)
    fa = bench_fastapi(clip, logo, args.requests, args.submits, threads=2)
    print(f"FastAPI: done, {fa[3]} job(s) still running at the end", flush=True)
    if fj[3] < 2 or fa[3] < 2:
        print("warning: a server was no longer saturated at the end; use a longer --seconds",
              file=sys.stderr)
    lines = ["| request | framejet p50 ms | p99 ms | max ms | FastAPI p50 ms | p99 ms | max ms | p99 FastAPI / framejet |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    names = [f"`GET /healthz` ×{args.requests}", f"`GET` a running job ×{args.requests}",
             f"`POST` a job (queued) ×{args.submits}"]
    for name, ours, theirs in zip(names, fj[:3], fa[:3]):
        o, t = percentiles(ours), percentiles(theirs)
        lines.append(f"| {name} | {o[0]:.2f} | {o[1]:.2f} | {o[2]:.2f} | {t[0]:.2f} | {t[1]:.2f} | "
                     f"{t[2]:.2f} | {t[1] / o[1]:.1f}× |")
    report("\n".join(lines), args.out)


main()
