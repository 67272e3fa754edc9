"""The set-up users come from: a FastAPI app under uvicorn whose job
endpoint brands a video the way such apps do — frames read by OpenCV, a
logo blended in with numpy and a caption drawn, frames written by OpenCV —
in a ThreadPoolExecutor, the usual fix for an event loop that hung while a
video encoded. Jobs live in a dict; progress is polled.

    uvicorn fastapi_app:app --port PORT      (BENCH_THREADS: executor size, default 2)
"""

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

app = FastAPI()
executor = ThreadPoolExecutor(max_workers=int(os.environ.get("BENCH_THREADS", "2")))
jobs = {}
lock = threading.Lock()


class JobIn(BaseModel):
    src: str
    logo: str
    out: str
    text: str = "FLEET"


def brand(job_id, job):
    with lock:
        jobs[job_id]["state"] = "running"
    cap = cv2.VideoCapture(job.src)
    width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    total = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 1)
    writer = cv2.VideoWriter(job.out, cv2.VideoWriter_fourcc(*"mp4v"), cap.get(cv2.CAP_PROP_FPS),
                             (width, height))
    logo = cv2.imread(job.logo, cv2.IMREAD_UNCHANGED)
    alpha = logo[:, :, 3:4].astype(np.float32) / 255.0
    colour = logo[:, :, :3].astype(np.float32) * alpha
    lh, lw = logo.shape[:2]
    x, y = width - lw - 16, 16
    done = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        region = frame[y:y + lh, x:x + lw].astype(np.float32)
        frame[y:y + lh, x:x + lw] = (colour + region * (1.0 - alpha)).astype(np.uint8)
        cv2.putText(frame, job.text, (40, height - 40), cv2.FONT_HERSHEY_SIMPLEX, 2.0,
                    (255, 255, 255), 4, cv2.LINE_AA)
        writer.write(frame)
        done += 1
        with lock:
            jobs[job_id]["frames"] = done
            jobs[job_id]["progress"] = done / total
    cap.release()
    writer.release()
    with lock:
        jobs[job_id]["state"] = "done" if done else "failed"


@app.get("/healthz", response_class=PlainTextResponse)
async def healthz():
    return "ok\n"


@app.post("/jobs", status_code=201)
async def submit(job: JobIn):
    job_id = uuid.uuid4().hex
    record = {"id": job_id, "state": "queued", "frames": 0, "progress": 0.0}
    with lock:
        jobs[job_id] = record
    executor.submit(brand, job_id, job)
    return dict(record)


@app.get("/jobs/{job_id}")
async def status(job_id: str):
    with lock:
        record = jobs.get(job_id)
        if record is None:
            raise HTTPException(status_code=404, detail="no such job")
        return dict(record)
