"""Watermark removal on kinds of video it was not tuned for: framejet's `inpaint` job step
against FFmpeg's delogo and removelogo, OpenCV's Telea and Navier-Stokes and the untouched
input, on generated clips of many kinds (pans slow and fast, a zoom, a turn, a still camera, a scene
cut, a moving object, a game of life, lossy H.264 and H.265 inputs, text and logo marks, a mark
that jumps between places, semi-transparent and opaque, over texture and over smooth
gradients), inside the mask, against the clean clip.

    corpus.py --framejet BIN --out DIR [--size 640x360] [--kinds a,b] [--check]

Prints a line per clip and a table; with --check, exits 1 when framejet misses what a kind is
held to (see KINDS), when cutting a clip into more segments changes its figure by over 0.2 dB,
or when `"mask": "auto"` misses the mark or spreads far beyond it. Baselines are cached by the
digest of the marked clip, so a second run only runs framejet again.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from bench import Y4M, run_opencv

FPS = 25
FRAMES = 75

# Each kind: the scene under the mark, the mark, how the marked clip is stored, the margin (dB)
# over the best baseline that framejet aims at, and what --check holds it to:
# - "target": that margin, over the whole clip and its worst second;
# - "floor": no worse than the best baseline less 0.3 dB, over both;
# - "report": printed only.
# `auto`: what --check holds `"mask": "auto"` to on the kind: "check", the mark's pixels found
# (at least AUTO_COVERED of them), a tight mask (at most AUTO_MOST times the mark's size) and an
# output at least the floor (the kind's aim, for a mark that moves); "report", printed only;
# None, not run (on a still scene the whole picture is as static as the mark, and a mask must be
# given).
# The aims: +6 dB where the video holds the information (a semi-transparent mark over texture
# or motion, lossless or CRF <= 23; an opaque mark where motion reveals the background), -0.3
# elsewhere; +4 for a semi-transparent mark under a still camera, which only the sensor noise
# it scales tells (held to what that gives at 360p, +5.6 at f31335b; +7.8 at 1080p).
# `moves`: a mark that jumps between places, as (first frame, where at 1080p); the job is given
# the places with their time ranges, and `"mask": "auto"` must find them and when.
KINDS = {
    "slow-pan-semi": dict(scene="pan:2:1", mark="semi", codec="lossless", target=6.0, check="target", auto="check"),
    "fast-pan-opaque": dict(scene="pan:42:3", mark="box", codec="lossless", target=6.0, check="target", auto="check"),
    "fast-pan-semi-text": dict(scene="pan:-40:2", mark="text", codec="lossless", target=6.0, check="target", auto="check"),
    "zoom-semi": dict(scene="zoom", mark="semi", codec="lossless", target=6.0, check="target", auto="check"),
    "zoom-opaque": dict(scene="zoom", mark="box", codec="lossless", target=6.0, check="target", auto="check"),
    "rotate-text": dict(scene="rotate", mark="text", codec="lossless", target=6.0, check="target", auto="check"),
    "rotate-crf23-text": dict(scene="rotate", mark="text", codec="h264:23", target=6.0, check="target", auto=None),
    "still-opaque": dict(scene="still", mark="box", codec="lossless", target=-0.3, check="target", auto=None),
    "still-semi": dict(scene="still", mark="semi", codec="lossless", target=4.0, check="target", auto=None),
    "scene-cut-text": dict(scene="cut", mark="text", codec="lossless", target=6.0, check="target", auto="check"),
    "object-opaque": dict(scene="object", mark="box", codec="lossless", target=-0.3, check="target", auto=None),
    "life-opaque": dict(scene="life", mark="box", codec="h264:23", target=-0.3, check="target", auto=None),
    "life-semi": dict(scene="life", mark="semi", codec="h264:23", target=-0.3, check="target", auto=None),
    "life-text": dict(scene="life", mark="text", codec="lossless", target=-0.3, check="target", auto=None),
    "bars-semi": dict(scene="bars", mark="semi", codec="h264:23", target=-0.3, check="target", auto=None),
    "gradient-semi": dict(scene="gradient", mark="semi", codec="lossless", target=-0.3, check="target", auto="check"),
    "h264-crf23-semi": dict(scene="pan:3:1", mark="semi", codec="h264:23", target=6.0, check="target", auto="check"),
    "h265-crf28-semi": dict(scene="pan:3:1", mark="text", codec="h265:28", target=-0.3, check="target", auto="check"),
    "h264-crf30-opaque": dict(scene="pan:5:2", mark="box", codec="h264:30", target=-0.3, check="target", auto="check"),
    "jump-text": dict(scene="pan:3:1", mark="text", codec="lossless", target=6.0, check="target", auto="check",
                      moves=[(0, (200, 600)), (30, (1100, 140)), (55, (700, 860))]),
}
FLOOR = -0.3
BASELINES = ["untouched", "delogo", "removelogo", "telea", "ns"]


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, **kw)


def ffmpeg(*args):
    sh(["ffmpeg", "-nostdin", "-v", "error", "-y", *args])


# ---------------------------------------------------------------------------------------------
# Clips


def texture(out: Path, name: str) -> Path:
    """Two large stills with real texture: the Mandelbrot set's seahorse valley (filaments at
    every scale beside smooth colour fields) and a cellular automaton's lattice."""
    png = out / f"texture_{name}.png"
    if png.exists():
        return png
    if name == "mandel":
        src = ("mandelbrot=size=2880x1620:rate=1:start_x=-0.743643887037151:start_y=0.13182590420533"
               ":start_scale=0.00002:end_scale=0.00002:maxiter=1024:outer=normalized_iteration_count")
        ffmpeg("-f", "lavfi", "-i", src, "-frames:v", "1", str(png))
    else:
        src = "cellauto=size=720x405:rule=110:random_fill_ratio=0.5:random_seed=11:scroll=0:full=1"
        ffmpeg("-f", "lavfi", "-i", src, "-vf",
               "scale=2880:1620:flags=bicubic,gblur=sigma=2,format=rgb24,"
               "colorchannelmixer=rr=0.4:rb=0.3:gg=0.6:bb=0.5:bg=0.3,eq=brightness=0.1",
               "-frames:v", "1", str(png))
    return png


def clean_clip(out: Path, scene: str, w: int, h: int) -> Path:
    """The clean clip as y4m: a window over a texture that pans, zooms, turns or stays put, a cut
    between two scenes, an object crossing a still scene or a smooth moving gradient, scaled to
    `w`x`h` with sensor-like temporal noise. Motion is given at 1080p and scales with the size."""
    y4m = out / f"clean_{scene.replace(':', '_')}_{w}x{h}.y4m"
    if y4m.exists():
        return y4m
    mandel, cells = texture(out, "mandel"), texture(out, "cells")
    tail = f"scale={w}:{h}:flags=lanczos,format=yuv420p,noise=alls=3:allf=t"
    n = FRAMES
    kind, *rest = scene.split(":")
    if kind == "pan":
        # The texture flanked by its mirror images, so that a fast pan never runs off it (a
        # crop that does stops moving); the slow pans stay on the texture itself.
        dx, dy = (int(v) for v in rest)
        x0 = 2880 + (480 if dx >= 0 else 900)
        vf = (f"split=3[a][b][c];[a]hflip[l];[c]hflip[r];[l][b][r]hstack=3,"
              f"crop=1920:1080:x='{x0}+{dx}*n':y='270+{dy}*n',{tail}")
        inputs = ["-loop", "1", "-framerate", str(FPS), "-i", str(mandel)]
    elif kind == "still":
        vf = f"crop=1920:1080:x=600:y=300,{tail}"
        inputs = ["-loop", "1", "-framerate", str(FPS), "-i", str(mandel)]
    elif kind == "zoom":
        # 1.2% closer each frame, about the centre.
        vf = (f"scale=2880:1620,zoompan=z='1+0.006*on':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2'"
              f":d=1:s=1920x1080:fps={FPS},{tail}")
        inputs = ["-loop", "1", "-framerate", str(FPS), "-i", str(mandel)]
    elif kind == "rotate":
        # A slow turn about the centre, 0.1 degrees a frame, over a picture wider than the frame.
        vf = (f"scale=2880:1620,rotate=a='0.00175*n':ow=1920:oh=1080:bilinear=1,{tail}")
        inputs = ["-loop", "1", "-framerate", str(FPS), "-i", str(mandel)]
    elif kind == "cut":
        # A pan over the Mandelbrot texture, cut at 1.2 s to a pan over the lattice.
        cut = int(FPS * 1.2)
        vf = None
        filt = (f"[0:v]crop=1920:1080:x='480+4*n':y=270,trim=end_frame={cut},setpts=N/{FPS}/TB[a];"
                f"[1:v]crop=1920:1080:x='300-5*n':y='200+2*n',trim=end_frame={n - cut},setpts=N/{FPS}/TB[b];"
                f"[a][b]concat=n=2:v=1,{tail}")
        ffmpeg("-loop", "1", "-framerate", str(FPS), "-i", str(mandel),
               "-loop", "1", "-framerate", str(FPS), "-i", str(cells),
               "-filter_complex", filt, "-frames:v", str(n), "-f", "yuv4mpegpipe", str(y4m))
        return y4m
    elif kind == "object":
        # A still scene; a bright textured card slides across it, under the mark, and on.
        filt = (f"[0:v]crop=1920:1080:x=700:y=200[bg];[1:v]crop=520:360:x=200:y=300[card];"
                f"[bg][card]overlay=x='-520+40*n':y=60,{tail}")
        ffmpeg("-loop", "1", "-framerate", str(FPS), "-i", str(mandel),
               "-loop", "1", "-framerate", str(FPS), "-i", str(cells),
               "-filter_complex", filt, "-frames:v", str(n), "-f", "yuv4mpegpipe", str(y4m))
        return y4m
    elif kind == "life":
        # A still camera on a game of life: sparse cells that come and go in place on black,
        # nothing moves as a whole.
        src = (f"life=size=240x135:rate={FPS}:ratio=0.12:random_seed=5:mold=0"
               f":life_color=#40d0b0:death_color=#000000")
        vf = f"scale=1920:1080:flags=neighbor,{tail}"
        inputs = ["-f", "lavfi", "-i", src]
    elif kind == "bars":
        # A still test card (FFmpeg's testsrc2: colour bars, a line and a chequered patch that
        # move across them): a still camera with things moving in front of a still background.
        vf = tail
        inputs = ["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate={FPS}"]
    elif kind == "gradient":
        # Smooth colour fields that drift (written out: FFmpeg's `gradients` source is not
        # the same from run to run).
        lum = "40+90*X/W+50*Y/H+20*sin(2*PI*(X/W+N/150))"
        cb = "128+30*sin(2*PI*(0.8*Y/H+N/200))"
        cr = "128+30*cos(2*PI*(0.7*X/W-N/180))"
        vf = f"format=yuv420p,geq=lum='{lum}':cb='{cb}':cr='{cr}',{tail}"
        inputs = ["-f", "lavfi", "-i", f"color=c=black:s={w}x{h}:r={FPS}"]
    else:
        raise SystemExit(f"unknown scene {scene}")
    ffmpeg(*inputs, "-vf", vf, "-frames:v", str(n), "-f", "yuv4mpegpipe", str(y4m))
    return y4m


def soft_text(h, w, text, org, scale, thickness):
    big = np.zeros((h * 4, w * 4), np.uint8)
    cv2.putText(big, text, (org[0] * 4, org[1] * 4), cv2.FONT_HERSHEY_DUPLEX, scale * 4, 255,
                thickness * 4, cv2.LINE_AA)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def logo(out: Path, mark: str, s: float):
    """A mark as a straight-alpha RGBA PNG, its size at 1080p times `s`, and where it goes:
    'semi', white lettering and a ring at alpha 0.5 with an orange bar at 0.4 (bottom right);
    'text', white 'SAMPLE' lettering at alpha 0.6 with a dark outline (centre left, as
    generated video is stamped); 'box', an opaque navy badge with a yellow disc (top left)."""
    path = out / f"logo_{mark}_{s:.3f}.png"
    if mark == "semi":
        h, w, at = 160, 480, (1380, 880)
        ring = np.zeros((h * 4, w * 4), np.uint8)
        cv2.circle(ring, (280, 320), 224, 255, 48, cv2.LINE_AA)
        ring = cv2.resize(ring, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        a = np.maximum(ring, soft_text(h, w, "framejet", (140, 100), 2.2, 5)) * 0.5
        rgb = np.full((h, w, 3), 255, np.float32)
        rgb[122:136, 140:460] = (255, 140, 20)
        a[122:136, 140:460] = np.maximum(a[122:136, 140:460], 0.4)
    elif mark == "text":
        h, w, at = 140, 620, (200, 600)
        t = soft_text(h, w, "SAMPLE", (20, 110), 3.6, 8)
        outline = cv2.dilate(t, np.ones((7, 7), np.uint8))
        a = np.maximum(t * 0.6, outline * 0.35)
        rgb = np.dstack([t * 255] * 3) + np.dstack([(1 - t) * 20] * 3)
    else:
        h, w, at = 120, 300, (80, 60)
        big = np.zeros((h * 4, w * 4, 4), np.uint8)
        cv2.rectangle(big, (8, 8), (w * 4 - 8, h * 4 - 8), (150, 40, 20, 255), -1, cv2.LINE_AA)
        cv2.circle(big, (240, 240), 160, (40, 220, 240, 255), -1, cv2.LINE_AA)
        small = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
        rgb, a = small[:, :, 2::-1].copy(), small[:, :, 3] / 255.0
    nh, nw = max(2, round(h * s / 2) * 2), max(2, round(w * s / 2) * 2)
    rgb = cv2.resize(rgb.astype(np.float32), (nw, nh), interpolation=cv2.INTER_AREA)
    a = cv2.resize(a.astype(np.float32), (nw, nh), interpolation=cv2.INTER_AREA)
    bgra = np.dstack([rgb[:, :, ::-1], a * 255]).round().clip(0, 255).astype(np.uint8)
    cv2.imwrite(str(path), bgra)
    return path, bgra[:, :, 3], (round(at[0] * s / 2) * 2, round(at[1] * s / 2) * 2)


def to_y4m(src: Path, dst: Path):
    ffmpeg("-i", str(src), "-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", str(dst))


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def psnr_series(out: Y4M, clean: Y4M, masks):
    """Per-frame squared error sums inside each frame's mask (`masks[i]`)."""
    return np.array([float(((out.planes(i)[0].astype(np.int32) - clean.planes(i)[0])[masks[i]] ** 2).sum())
                     for i in range(min(out.frames, clean.frames))])


def figures(se, masks):
    """PSNR over the whole clip and over its worst one-second window."""
    pixels = np.array([float(masks[i].sum()) for i in range(len(se))])
    db = lambda s, n: 99.0 if s <= 1e-9 else 10 * np.log10(255.0 ** 2 * n / s)
    whole = db(se.sum(), pixels.sum())
    windows = [db(se[i:i + FPS].sum(), pixels[i:i + FPS].sum())
               for i in range(0, max(1, len(se) - FPS + 1))]
    return whole, min(windows)


class Places:
    """Where the mark is in each frame: a list of (frames, mask) places, `masks[i]` the mask of
    frame `i` (all clear where no place covers it)."""

    def __init__(self, places, shape):
        self.places = places
        self.clear = np.zeros(shape, bool)

    def __getitem__(self, i):
        return next((m for r, m in self.places if i in r), self.clear)

    def union(self):
        return np.logical_or.reduce([m for _, m in self.places])


# ---------------------------------------------------------------------------------------------
# Methods


def baseline(method, marked_y4m: Path, dst: Path, places):
    """Runs a baseline on the marked clip, given each place's mask (a PNG and an array) and
    frames: FFmpeg's filters enabled over each place's frames, OpenCV with each frame's mask."""
    def rect(mask_y):
        h, w = mask_y.shape
        ys, xs = np.nonzero(mask_y)
        x0, y0 = max(int(xs.min()), 1), max(int(ys.min()), 1)
        x1, y1 = min(int(xs.max()) + 1, w - 1), min(int(ys.max()) + 1, h - 1)
        return x0, y0, x1, y1

    def enable(frames):
        return "" if len(places) == 1 else f":enable='between(n,{frames.start},{frames.stop - 1})'"

    if method == "untouched":
        os.link(marked_y4m, dst) if not dst.exists() else None
    elif method == "delogo":
        vf = ",".join(f"delogo=x={x0}:y={y0}:w={x1 - x0}:h={y1 - y0}{enable(frames)}"
                      for frames, _, mask_y in places for x0, y0, x1, y1 in [rect(mask_y)])
        ffmpeg("-i", str(marked_y4m), "-vf", vf, "-f", "yuv4mpegpipe", str(dst))
    elif method == "removelogo":
        vf = ",".join(f"removelogo=filename={png}{enable(frames)}" for frames, png, _ in places)
        ffmpeg("-i", str(marked_y4m), "-vf", vf, "-f", "yuv4mpegpipe", str(dst))
    elif len(places) == 1:
        mask_y = places[0][2]
        h, w = mask_y.shape
        mask_c = mask_y.reshape(h // 2, 2, w // 2, 2).any(axis=(1, 3))
        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        run_opencv(marked_y4m, dst, mask_y, mask_c, flag)
    else:
        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        src = Y4M(marked_y4m)
        with open(dst, "wb") as f:
            with open(marked_y4m, "rb") as header:
                f.write(header.readline())
            for i in range(src.frames):
                f.write(b"FRAME\n")
                mask_y = next((m for r, _, m in places if i in r), None)
                for plane in src.planes(i):
                    plane = np.ascontiguousarray(plane)
                    if mask_y is not None:
                        h, w = plane.shape
                        m = mask_y if mask_y.shape == plane.shape else \
                            mask_y.reshape(h, 2, w, 2).any(axis=(1, 3))
                        plane = cv2.inpaint(plane, m.astype(np.uint8) * 255, 3, flag)
                    f.write(plane.tobytes())


AUTO_COVERED = 0.85
AUTO_MOST = 3.0


def run_auto(framejet: str, marked: Path, work: Path, clean: Y4M, masks):
    """The mask `"mask": "auto"` finds on the marked clip (every place's, for a mark that
    moves), as a boolean array, and the PSNR figures of the output it gives."""
    job = work / f"job_auto_{marked.stem}.json"
    job.write_text(json.dumps({
        "inputs": [{"src": str(marked)}],
        "steps": [{"native": "inpaint", "mask": "auto", "write_mask": True}],
        "output": {"container": "mkv", "audio": {"codec": "none"}, "video": {"codec": "ffv1"}},
    }))
    mkv = work / f"auto_{marked.stem}.mkv"
    sh([framejet, "run", str(job), "-o", str(mkv), "-y", "--json"], stdout=subprocess.DEVNULL)
    mask_png = Path(f"{mkv}.mask.png")
    found = cv2.imread(str(mask_png), cv2.IMREAD_GRAYSCALE) > 127
    y4m = mkv.with_suffix(".y4m")
    to_y4m(mkv, y4m)
    result = figures(psnr_series(Y4M(y4m), clean, masks), masks)
    for leftover in (mkv, Path(f"{mkv}.log"), mask_png, y4m):
        if leftover.exists():
            leftover.unlink()
    return found, result


def run_framejet(framejet: str, marked: Path, mask, dst: Path, segments: int, work: Path):
    """The inpaint step as a job runs it: the marked clip in, lossless H.264 out. `mask` is the
    step's: a mask PNG, a list of places or "auto"."""
    job = work / f"job_{dst.stem}.json"
    job.write_text(json.dumps({
        "inputs": [{"src": str(marked)}],
        "steps": [{"native": "inpaint", "mask": {"png": str(mask)} if isinstance(mask, Path) else mask}],
        "segment": {"plugin": "segment-keyframes",
                    "params": {"min_segments": segments, "max_segments": segments, "min_frames": 8}},
        "output": {"container": "mkv", "audio": {"codec": "none"},
                   "video": {"codec": "h264", "rate": {"crf": 0}, "preset": "ultrafast", "hw": "cpu"}},
    }))
    mkv = dst.with_suffix(".mkv")
    t = time.perf_counter()
    sh([framejet, "run", str(job), "-o", str(mkv), "-y", "--json"], stdout=subprocess.DEVNULL)
    secs = time.perf_counter() - t
    to_y4m(mkv, dst)
    for leftover in (mkv, Path(f"{mkv}.log")):
        if leftover.exists():
            leftover.unlink()
    return secs


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--framejet", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--segments", default="1", help="also run cut into these many segments, e.g. 1,2,4")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--table", type=Path)
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    w, h = map(int, args.size.split("x"))
    s = w / 1920
    rows, failures, autos = [], [], {}
    for name in args.kinds.split(","):
        kind = KINDS[name]
        clean_y4m = clean_clip(out, kind["scene"], w, h)
        clean = Y4M(clean_y4m)
        logo_png, alpha, at = logo(out, kind["mark"], s)
        # Where the mark is: one place throughout, or each place of a mark that jumps from
        # its first frame to the next place's.
        moves = [(f, (round(x * s / 2) * 2, round(y * s / 2) * 2)) for f, (x, y) in kind["moves"]] \
            if "moves" in kind else [(0, at)]
        places = []  # (frames, mask PNG, mask)
        for k, (f0, (lx, ly)) in enumerate(moves):
            f1 = moves[k + 1][0] if k + 1 < len(moves) else FRAMES
            mask_y = np.zeros((h, w), np.uint8)
            mask_y[ly:ly + alpha.shape[0], lx:lx + alpha.shape[1]] = alpha > 0
            mask_y = cv2.dilate(mask_y, np.ones((5, 5), np.uint8)) > 0
            mask_png = out / (f"mask_{name}_{w}x{h}.png" if len(moves) == 1 else f"mask_{name}_{k}_{w}x{h}.png")
            cv2.imwrite(str(mask_png), mask_y.astype(np.uint8) * 255)
            places.append((range(f0, f1), mask_png, mask_y))
        masks = Places([(r, m) for r, _, m in places], (h, w))
        if len(places) == 1:
            job_mask = places[0][1]
        else:
            job_mask = [{"png": str(png), "from": r.start / FPS, "to": r.stop / FPS} for r, png, _ in places]
        overlay = "[1:v]format=rgba,scale=out_color_matrix=bt709:out_range=tv,format=yuva420p,split=" \
            f"{len(places)}" + "".join(f"[l{k}]" for k in range(len(places))) + ";[0:v]"
        for k, (f0, (lx, ly)) in enumerate(moves):
            enable = "" if len(places) == 1 else f":enable='between(n,{places[k][0].start},{places[k][0].stop - 1})'"
            overlay += f"[l{k}]overlay=x={lx}:y={ly}:format=yuv420{enable}" + (f"[v{k}];[v{k}]" if k + 1 < len(moves) else "")
        codec, _, crf = kind["codec"].partition(":")
        if codec == "lossless":
            marked = out / f"marked_{name}_{w}x{h}.mkv"
            enc = ["-c:v", "ffv1"]
        else:
            marked = out / f"marked_{name}_{w}x{h}.mp4"
            lib = "libx264" if codec == "h264" else "libx265"
            enc = ["-c:v", lib, "-crf", crf, "-preset", "medium", "-pix_fmt", "yuv420p"]
            if lib == "libx265":
                enc += ["-x265-params", "log-level=error"]
        ffmpeg("-i", str(clean_y4m), "-i", str(logo_png), "-filter_complex", overlay, *enc, str(marked))
        marked_y4m = out / f"marked_{name}_{w}x{h}.y4m"
        to_y4m(marked, marked_y4m)
        key = digest(marked_y4m) + "".join(digest(png) for _, png, _ in places)
        cache = out / f"baselines_{key}.json"
        base = json.loads(cache.read_text()) if cache.exists() else {}
        for method in BASELINES:
            if method in base:
                continue
            dst = out / f"out_{name}_{method}.y4m"
            baseline(method, marked_y4m, dst, places)
            base[method] = figures(psnr_series(Y4M(dst), clean, masks), masks)
            dst.unlink()
        cache.write_text(json.dumps(base))
        best_whole = max(v[0] for k, v in base.items() if k != "untouched")
        best_worst = max(v[1] for k, v in base.items() if k != "untouched")
        best_whole, best_worst = max(best_whole, base["untouched"][0]), max(best_worst, base["untouched"][1])
        best_name = max(base, key=lambda k: base[k][0])
        results = {}
        for segs in map(int, args.segments.split(",")):
            dst = out / f"out_{name}_framejet{segs}.y4m"
            secs = run_framejet(args.framejet, marked, job_mask, dst, segs, out)
            results[segs] = figures(psnr_series(Y4M(dst), clean, masks), masks)
            dst.unlink()
            whole, worst = results[segs]
            line = (f"{name:20} framejet/{segs}: {whole:6.2f} dB (worst second {worst:6.2f}); "
                    f"best baseline {best_name} {best_whole:6.2f} ({best_worst:6.2f}); margin "
                    f"{whole - best_whole:+6.2f} ({worst - best_worst:+6.2f}), aim {kind['target']:+.1f} "
                    f"({kind['check']}); "
                    + ", ".join(f"{k} {v[0]:.2f}" for k, v in base.items()) + f"; {secs:.1f} s")
            print(line, flush=True)
            rows.append((name, segs, whole, worst, best_name, best_whole, best_worst, base))
            held = {"target": kind["target"], "floor": FLOOR}.get(kind["check"])
            if held is not None and (whole - best_whole < held or worst - best_worst < min(held, FLOOR)):
                failures.append(f"{name} ({segs} segment(s)) below {held:+.1f} dB")
        if len(results) > 1:
            spread = max(v[0] for v in results.values()) - min(v[0] for v in results.values())
            print(f"{name:20} spread over segment counts: {spread:.2f} dB", flush=True)
            if spread > 0.2:
                failures.append(f"{name}: segment counts differ by {spread:.2f} dB")
        if kind["auto"]:
            # What a user who does not know where the mark is gets: the mask (every place of a
            # mark that moves, and when it is there) found, and the output with it. Held to the
            # kind's aim where the mark moves (finding the places is the point).
            found, (whole, worst) = run_auto(args.framejet, marked, out, clean, masks)
            autos[name] = (whole, worst)
            print(f"{name:20} framejet with \"mask\": \"auto\": {whole:6.2f} dB (worst second {worst:6.2f}); "
                  f"margin {whole - best_whole:+6.2f} ({worst - best_worst:+6.2f})", flush=True)
            held = {"target": kind["target"], "floor": FLOOR}.get(kind["check"])
            if held is not None and "moves" not in kind:
                # A mark that stays: the floor; one that moves: its aim, as with its places given.
                held = FLOOR
            if kind["auto"] == "check" and held is not None and (
                    whole - best_whole < held or worst - best_worst < min(held, FLOOR)):
                failures.append(f"{name} with \"mask\": \"auto\" below {held:+.1f} dB")
            truth = masks.union()
            covered = float((found & truth).sum()) / float(truth.sum())
            iou = float((found & truth).sum()) / float((found | truth).sum())
            print(f"{name:20} \"mask\": \"auto\": {int(found.sum())} pixels for the mark's {int(truth.sum())}, "
                  f"{covered:.0%} of them found, IoU {iou:.2f} ({kind['auto']})", flush=True)
            if kind["auto"] == "check" and (covered < AUTO_COVERED or found.sum() > AUTO_MOST * truth.sum()):
                failures.append(f"{name}: \"mask\": \"auto\" found {covered:.0%} of the mark in "
                                f"{int(found.sum())} pixels for its {int(truth.sum())}")
        marked_y4m.unlink()
    if args.table:
        lines = ["| clip | segments | framejet dB (worst 1 s) | " + " | ".join(BASELINES)
                 + " | margin dB | with `auto` dB (worst 1 s) |",
                 "| --- | ---: | ---: | " + " | ".join("---:" for _ in BASELINES) + " | ---: | ---: |"]
        for name, segs, whole, worst, best_name, bw, bwo, base in rows:
            auto = autos.get(name) if segs == rows[0][1] or segs == 1 else None
            lines.append(f"| {name} | {segs} | {whole:.2f} ({worst:.2f}) | "
                         + " | ".join(f"{base[m][0]:.2f}" for m in BASELINES) + f" | {whole - bw:+.2f} | "
                         + (f"{auto[0]:.2f} ({auto[1]:.2f})" if auto else "") + " |")
        args.table.write_text("\n".join(lines) + "\n")
    if failures:
        print("below target: " + ", ".join(failures))
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
