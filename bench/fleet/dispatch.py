"""Dispatch benchmark: how long a task waits between being published and
starting, framejet's fleet against Celery 5 on Redis, in one run.

framejet: `framejet worker` processes pulling `noop` tasks (the same pull,
record read, started event and ack as a segment, no media work) from a
nats-server with JetStream. Celery: `celery worker --pool=solo` processes
with a no-op task, Redis as the broker. Both note when each task starts
(framejet's started events, kept in its events stream; Celery's task
pushes to a Redis list), read back once all have run; the driver notes
when it published each (one clock: one machine).

Shapes: burst (publish as fast as possible), paced (a fixed rate), drain
(publish everything, then start the workers). One more row at 200/s: the
same publish into a bare work-queue stream, taken by a nats-py consumer
waiting on a pull, the transport's own latency on this machine. Per shape and tool: p50 and
p99 of publish-to-start, tasks/s from the first start to the last, lost
(never started), run twice (started more than once).

    python3 dispatch.py --framejet PATH [--tasks 10000] [--workers 2] [--out FILE]
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from procs import free_port, nats_server, report, start_server, stop

HERE = os.path.dirname(os.path.abspath(__file__))






def now_us():
    return time.time_ns() // 1000


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def summarize(published, starts, n):
    """published: {key: t_us}; starts: [(key, t_us)]."""
    seen = {}
    for key, t in starts:
        seen.setdefault(key, []).append(t)
    lat = [(min(ts) - published[k]) / 1000 for k, ts in seen.items() if k in published]
    first = [min(ts) for ts in seen.values()]
    span = (max(first) - min(first)) / 1e6 if len(first) > 1 else float("nan")
    return {
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "tasks_per_s": (len(first) - 1) / span if span and span > 0 else float("nan"),
        "lost": n - len(seen),
        "run_twice": sum(1 for ts in seen.values() if len(ts) > 1),
    }


async def pace(n, rate, publish):
    """Calls publish(i) n times: at `rate` per second, or as fast as it goes (None)."""
    start = time.perf_counter()
    for i in range(n):
        if rate:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await publish(i)


class Tool:
    """A broker (`self.server`) and the worker processes started against it."""

    def stop_workers(self):
        stop(self.procs)
        self.procs = []

    def close(self):
        self.stop_workers()
        self.server.terminate()
        self.server.wait()


# ---------------------------------------------------------------- framejet

class Framejet(Tool):
    def __init__(self, binary, workers, slots):
        self.binary, self.workers, self.slots = binary, workers, slots
        self.dir = tempfile.mkdtemp(prefix="fj-dispatch-")
        self.server, self.url = nats_server(self.dir)
        self.procs = []

    async def setup(self):
        """Workers make the streams, buckets and consumers at start."""
        import nats
        self.start_workers()
        nc = await nats.connect(self.url)
        js = nc.jetstream()
        for _ in range(300):
            try:
                await js.key_value("fj-jobs")
                await js.consumer_info("FJ_WORK", "bench-normal")
                break
            except Exception:
                await asyncio.sleep(0.05)
        await nc.close()
        self.stop_workers()

    def start_workers(self):
        for n in range(self.workers):
            self.procs.append(subprocess.Popen(
                [self.binary, "worker", "--nats", self.url, "--queues", "bench",
                 "--slots", str(self.slots), "--id", f"bench-{n}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "RUST_LOG": "warn"}))

    def close(self):
        super().close()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def run(self, shape, n, rate=None):
        import nats
        nc = await nats.connect(self.url)
        js = nc.jetstream()
        if shape != "drain":
            self.start_workers()
            await asyncio.sleep(1)
        kv = await js.key_value("fj-jobs")
        job = f"bench-{shape}-{rate or 0}"
        record = {"version": 1, "id": job, "state": "running", "priority": "normal",
                  "spec_digest": "-", "spec": {"inputs": [{"src": "media:none"}]},
                  "submitted_at_ms": now_us() // 1000}
        await kv.put(job, json.dumps(record).encode())
        published = {}
        payload = json.dumps({"version": 1, "job_id": job, "kind": "noop"}).encode()

        async def publish(i):
            t = now_us()
            ack = await js.publish("fj.work.bench.normal.noop", payload,
                                   headers={"Nats-Msg-Id": f"{job}-{i}"})
            published[ack.seq] = t

        if rate is None and shape == "burst":
            # As fast as it goes: 64 publishes in flight.
            sem = asyncio.Semaphore(64)

            async def one(i):
                async with sem:
                    await publish(i)
            await asyncio.gather(*(one(i) for i in range(n)))
        else:
            await pace(n, rate, publish)
        if shape == "drain":
            self.start_workers()
        # The started events are stored in the events stream: they are read
        # once every task has run, so that reading them takes no CPU from
        # the run (as Celery's starts are read from Redis afterwards).
        subject = f"fj.events.{job}.task"
        deadline = time.time() + 120 + n / 100
        while time.time() < deadline:
            info = await js.stream_info("FJ_EVENTS", subjects_filter=subject)
            if (info.state.subjects or {}).get(subject, 0) >= n:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        self.stop_workers()
        starts = []
        sub = await js.pull_subscribe(subject, stream="FJ_EVENTS")
        while True:
            try:
                batch = await sub.fetch(1000, timeout=1)
            except nats.errors.TimeoutError:
                break
            for msg in batch:
                e = json.loads(msg.data)
                starts.append((e["seq"], e["at_us"]))
                await msg.ack()
        await nc.close()
        return summarize(published, starts, n)


# ---------------------------------------------------------------- JetStream alone

FLOOR_CONSUMER = r"""
import asyncio, sys, time, nats
async def main():
    nc = await nats.connect(sys.argv[1])
    sub = await nc.jetstream().pull_subscribe("floor.>", durable="floor", stream="FLOOR")
    print("ready", flush=True)
    starts, n = [], int(sys.argv[2])
    while len(starts) < n:
        try:
            msgs = await sub.fetch(1, timeout=5)
        except nats.errors.TimeoutError:
            continue
        for m in msgs:
            starts.append((m.metadata.sequence.stream, time.time_ns() // 1000))
            await m.ack()
    for seq, t in starts:
        print(seq, t)
asyncio.run(main())
"""


async def jetstream_floor(url, n, rate):
    """The same publish, stored in a work-queue stream and handed to one
    nats-py consumer waiting on a pull: the transport with no worker logic,
    the floor under framejet's figures on this machine."""
    import nats
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="FLOOR", subjects=["floor.>"], retention="workqueue")
    consumer = subprocess.Popen([sys.executable, "-c", FLOOR_CONSUMER, url, str(n)],
                                stdout=subprocess.PIPE, text=True)
    consumer.stdout.readline()
    published = {}

    async def publish(i):
        t = now_us()
        ack = await js.publish("floor.task", b"{}")
        published[ack.seq] = t

    await pace(n, rate, publish)
    out, _ = consumer.communicate(timeout=120)
    await js.delete_stream("FLOOR")
    await nc.close()
    starts = [tuple(int(x) for x in line.split()) for line in out.splitlines()]
    return summarize(published, starts, n)


# ---------------------------------------------------------------- Celery

class Celery(Tool):
    def __init__(self, workers):
        self.workers = workers
        port = free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        self.server = start_server(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"], port)
        self.procs = []
        os.environ["BENCH_REDIS"] = self.url
        sys.path.insert(0, HERE)
        import celery_app
        self.app = celery_app
        import redis
        self.redis = redis.Redis.from_url(self.url)

    def start_workers(self):
        for n in range(self.workers):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool=solo",
                 "-Q", "bench", "-n", f"bench{n}@%h", "--loglevel=WARNING"],
                cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "BENCH_REDIS": self.url}))
        # Ready when both answer a ping.
        for _ in range(300):
            replies = self.app.app.control.ping(timeout=0.2) or []
            if len(replies) >= self.workers:
                return
        raise RuntimeError("the Celery workers did not start")

    async def run(self, shape, n, rate=None):
        self.redis.delete("bench:starts")
        if shape != "drain":
            self.start_workers()
        published = {}

        async def publish(i):
            published[i] = now_us()
            self.app.noop.apply_async((i,), queue="bench")

        await pace(n, rate, publish)
        if shape == "drain":
            self.start_workers()
        deadline = time.time() + 120 + n / 50
        while self.redis.llen("bench:starts") < n and time.time() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        starts = [tuple(int(x) for x in s.split()) for s in self.redis.lrange("bench:starts", 0, -1)]
        self.stop_workers()
        return summarize(published, starts, n)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framejet", required=True)
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--slots", type=int, default=16)
    ap.add_argument("--out")
    args = ap.parse_args()
    shapes = [("burst", None), ("paced", 200), ("paced", 700), ("drain", None)]
    rows = []
    fj, cl = Framejet(args.framejet, args.workers, args.slots), Celery(args.workers)
    await fj.setup()
    try:
        for shape, rate in shapes:
            for name, tool in (("framejet", fj), ("celery", cl)):
                r = await tool.run(shape, args.tasks, rate)
                label = f"{shape} {rate}/s" if rate else shape
                rows.append((label, name, r))
                print(f"{label:12} {name:9} p50 {r['p50_ms']:8.2f} ms  p99 {r['p99_ms']:9.2f} ms  "
                      f"{r['tasks_per_s']:8.0f} tasks/s  lost {r['lost']}  twice {r['run_twice']}",
                      flush=True)
        floor_rate = 200
        r = await jetstream_floor(fj.url, min(args.tasks, 3000), floor_rate)
        floor = (f"paced {floor_rate}/s", "JetStream alone", r)
        print(f"{floor[0]:12} {floor[1]}  p50 {r['p50_ms']:8.2f} ms  p99 {r['p99_ms']:9.2f} ms",
              flush=True)
    finally:
        fj.close()
        cl.close()
    lines = ["| shape | tool | p50 ms | p99 ms | tasks/s | lost | run twice | p99 Celery / framejet | tasks/s framejet / Celery |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    by = {(label, name): r for label, name, r in rows}
    for label, name, r in rows:
        other = by[(label, "celery")]
        mine = by[(label, "framejet")]
        ratio_p99 = other["p99_ms"] / mine["p99_ms"] if name == "framejet" and mine["p99_ms"] > 0 else None
        ratio_tps = mine["tasks_per_s"] / other["tasks_per_s"] if name == "framejet" and other["tasks_per_s"] > 0 else None
        lines.append(
            f"| {label} | {name} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['tasks_per_s']:.0f} | "
            f"{r['lost']} | {r['run_twice']} | {f'{ratio_p99:.1f}×' if ratio_p99 else ''} | "
            f"{f'{ratio_tps:.1f}×' if ratio_tps else ''} |")
    label, name, r = floor
    lines.append(f"| {label} | {name} (nats-py pull, no worker) | {r['p50_ms']:.2f} | "
                 f"{r['p99_ms']:.2f} | | {r['lost']} | {r['run_twice']} | | |")
    report("\n".join(lines), args.out,
           f"{args.tasks} no-op tasks, {args.workers} workers each "
           f"(framejet --slots {args.slots}; Celery --pool=solo)\n\n")


asyncio.run(main())
