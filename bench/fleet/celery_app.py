"""The Celery side of the dispatch benchmark: one no-op task that notes
when it started, in Redis, as the framejet worker notes it in an event."""

import os
import time

import redis
from celery import Celery

BROKER = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
app = Celery("bench", broker=BROKER)
app.conf.task_default_queue = "bench"
app.conf.worker_hijack_root_logger = False
starts = redis.Redis.from_url(BROKER)


@app.task(name="noop")
def noop(i):
    starts.rpush("bench:starts", f"{i} {time.time_ns() // 1000}")
