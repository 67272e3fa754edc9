"""Watermark-removal yardstick: framejet's inpaint against FFmpeg's delogo and removelogo and
OpenCV's Telea and Navier-Stokes inpainting, on the same clips, masks and machine, in one run.

Run through bench/inpaint/run.sh (which builds the example and the Python venv); see
bench/inpaint/README.md for what is measured and how.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

FPS = 25


# ---------------------------------------------------------------------------------------------
# Clips and marks


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def make_texture(out: Path) -> Path:
    """A large still with real texture: the Mandelbrot set's seahorse valley (filaments at every
    scale next to smooth colour fields)."""
    tex = out / "texture.png"
    if not tex.exists():
        sh(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
            "mandelbrot=size=2880x1620:rate=1:start_x=-0.743643887037151:start_y=0.13182590420533"
            ":start_scale=0.00002:end_scale=0.00002:maxiter=1024:outer=normalized_iteration_count",
            "-frames:v", "1", "-y", str(tex)])
    return tex


def make_clean(out: Path, tex: Path, scene: str, size: tuple, frames: int) -> Path:
    """The clean clip, lossless (FFV1): a 1920x1080 window over the texture that pans by (6, 2)
    pixels per frame ('pan') or stays put ('still'), scaled to `size`, with sensor-like temporal
    noise added after scaling. At 640x360 the pan is (2, 2/3) px per frame: subpixel."""
    w, h = size
    clip = out / f"clean_{scene}_{w}x{h}.mkv"
    if clip.exists():
        return clip
    crop = "crop=1920:1080:x='6*n':y='2*n'" if scene == "pan" else "crop=1920:1080:x=480:y=270"
    vf = (f"{crop},scale={w}:{h}:flags=lanczos,format=yuv420p,"
          "noise=alls=4:allf=t,setparams=colorspace=bt709:range=tv")
    sh(["ffmpeg", "-v", "error", "-loop", "1", "-framerate", str(FPS), "-i", str(tex),
        "-vf", vf, "-frames:v", str(frames), "-c:v", "ffv1", "-y", str(clip)])
    return clip


def soft_text(canvas_hw, text, org, scale, thickness):
    """Antialiased text coverage in [0, 1], drawn at 4x and reduced."""
    h, w = canvas_hw
    big = np.zeros((h * 4, w * 4), np.uint8)
    cv2.putText(big, text, (org[0] * 4, org[1] * 4), cv2.FONT_HERSHEY_DUPLEX, scale * 4, 255,
                thickness * 4, cv2.LINE_AA)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def make_logos(out: Path, scale: float):
    """Two marks, as straight-alpha RGBA PNGs (OpenCV writes BGRA):
    - 'semi': white 'framejet' lettering over a ring, alpha 0.5, with an orange bar at 0.4;
    - 'opaque': a navy badge with a yellow disc and white 'TV', alpha 1 (soft edges)."""
    logos = {}
    # Semi-transparent, 480x160 at 1080p.
    h, w = 160, 480
    a = np.zeros((h, w), np.float32)
    rgb = np.full((h, w, 3), 255, np.float32)
    ring = np.zeros((h * 4, w * 4), np.uint8)
    cv2.circle(ring, (70 * 4, 80 * 4), 56 * 4, 255, 12 * 4, cv2.LINE_AA)
    ring = cv2.resize(ring, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    text = soft_text((h, w), "framejet", (140, 100), 2.2, 5)
    a = np.maximum(ring, text) * 0.5
    bar = np.zeros((h, w), np.float32)
    bar[122:136, 140:460] = 1.0
    rgb[bar > 0] = (255, 140, 20)
    a = np.maximum(a, bar * 0.4)
    logos["semi"] = (rgb, a)
    # Opaque, 300x120 at 1080p.
    h, w = 120, 300
    big = np.zeros((h * 4, w * 4, 4), np.uint8)
    cv2.rectangle(big, (8, 8), (w * 4 - 8, h * 4 - 8), (150, 40, 20, 255), -1, cv2.LINE_AA)
    cv2.circle(big, (60 * 4, 60 * 4), 40 * 4, (40, 220, 240, 255), -1, cv2.LINE_AA)
    cv2.putText(big, "TV", (120 * 4, 88 * 4), cv2.FONT_HERSHEY_DUPLEX, 2.6 * 4, (255, 255, 255, 255),
                6 * 4, cv2.LINE_AA)
    small = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    logos["opaque"] = (small[:, :, 2::-1].copy(), small[:, :, 3] / 255.0)

    paths = {}
    for name, (rgb, alpha) in logos.items():
        lh, lw = alpha.shape
        nh, nw = max(2, round(lh * scale / 2) * 2), max(2, round(lw * scale / 2) * 2)
        if (nw, nh) != (lw, lh):
            rgb = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
            alpha = cv2.resize(alpha, (nw, nh), interpolation=cv2.INTER_AREA)
        bgra = np.dstack([rgb[:, :, ::-1], alpha * 255]).round().clip(0, 255).astype(np.uint8)
        path = out / f"logo_{name}_{scale:.3f}.png"
        cv2.imwrite(str(path), bgra)
        paths[name] = (path, bgra[:, :, 3])
    return paths


# ---------------------------------------------------------------------------------------------
# yuv4mpeg


class Y4M:
    """A yuv4mpeg file (yuv420p, no per-frame parameters) read as numpy planes."""

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            header = f.readline()
        self.header_len = len(header)
        params = header.decode().split()
        self.w = int(next(p[1:] for p in params if p.startswith("W")))
        self.h = int(next(p[1:] for p in params if p.startswith("H")))
        self.cw, self.ch = (self.w + 1) // 2, (self.h + 1) // 2
        self.frame_size = self.w * self.h + 2 * self.cw * self.ch
        self.data = np.memmap(path, np.uint8, "r")
        self.frames = (len(self.data) - self.header_len) // (self.frame_size + 6)

    def planes(self, i):
        o = self.header_len + i * (self.frame_size + 6) + 6
        y = self.data[o:o + self.w * self.h].reshape(self.h, self.w)
        o += self.w * self.h
        u = self.data[o:o + self.cw * self.ch].reshape(self.ch, self.cw)
        o += self.cw * self.ch
        v = self.data[o:o + self.cw * self.ch].reshape(self.ch, self.cw)
        return y, u, v


def decode_y4m(src: Path, dst: Path):
    sh(["ffmpeg", "-v", "error", "-i", str(src), "-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p",
        "-y", str(dst)])


# ---------------------------------------------------------------------------------------------
# Metrics


def ssim(a, b):
    """Mean SSIM of two luma images (Gaussian window, sigma 1.5, as in Wang et al.)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5)
    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    return float(s.mean())


def psnr(se, n):
    mse = se / max(n, 1)
    return 99.0 if mse <= 1e-12 else 10 * np.log10(255.0 ** 2 / mse)


def measure(out: Y4M, clean: Y4M, mask_y, mask_c, bbox, whole_ssim_step):
    """PSNR and SSIM against the clean clip, and the frame-to-frame change inside the mask."""
    x0, y0, x1, y1 = bbox
    se = {"y": 0.0, "uv": 0.0, "frame": 0.0}
    n_y, n_c = int(mask_y.sum()), int(mask_c.sum())
    s_box, s_frame, change, flicker = [], [], [], []
    prev = prev_clean = None
    for i in range(min(out.frames, clean.frames)):
        oy, ou, ov = out.planes(i)
        cy, cu, cv_ = clean.planes(i)
        d = oy.astype(np.int32) - cy
        se["frame"] += float((d * d).sum())
        se["y"] += float((d[mask_y] ** 2).sum())
        for o, c in ((ou, cu), (ov, cv_)):
            dc = o[mask_c].astype(np.int32) - c[mask_c]
            se["uv"] += float((dc * dc).sum())
        s_box.append(ssim(oy[y0:y1, x0:x1], cy[y0:y1, x0:x1]))
        if i % whole_ssim_step == 0:
            s_frame.append(ssim(oy, cy))
        if prev is not None:
            do = oy[mask_y].astype(np.int32) - prev[mask_y]
            dc = cy[mask_y].astype(np.int32) - prev_clean[mask_y]
            change.append(np.abs(do).mean())
            flicker.append(np.abs(do - dc).mean())
        prev, prev_clean = oy, cy
    n = min(out.frames, clean.frames)
    return {
        "frames": out.frames,
        "psnr_y": psnr(se["y"], n * n_y),
        "psnr_uv": psnr(se["uv"], n * 2 * n_c),
        "ssim_box": float(np.mean(s_box)),
        "psnr_frame": psnr(se["frame"], n * clean.w * clean.h),
        "ssim_frame": float(np.mean(s_frame)),
        "change": float(np.mean(change)),
        "flicker": float(np.mean(flicker)),
    }


def clean_change(clean: Y4M, mask_y):
    vals = []
    prev = None
    for i in range(clean.frames):
        y = clean.planes(i)[0]
        if prev is not None:
            vals.append(np.abs(y[mask_y].astype(np.int32) - prev[mask_y]).mean())
        prev = y
    return float(np.mean(vals))


# ---------------------------------------------------------------------------------------------
# Methods


def cpu_seconds(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def run_pipeline(cmd: str) -> tuple:
    """Runs a shell command; returns (wall seconds, CPU seconds of everything it ran)."""
    t, c = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    sh(["bash", "-o", "pipefail", "-c", cmd])
    return time.perf_counter() - t, cpu_seconds(resource.RUSAGE_CHILDREN) - c


def run_opencv(marked: Path, dst: Path, mask_y, mask_c, flag, radius=3) -> tuple:
    """cv2.inpaint on each plane (luma with the mask, chroma with its 2x2 reduction), reading
    and writing y4m like the other methods; returns (wall seconds, CPU seconds)."""
    t, c = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    src = Y4M(marked)
    my, mc = mask_y.astype(np.uint8) * 255, mask_c.astype(np.uint8) * 255
    with open(dst, "wb") as f:
        with open(marked, "rb") as header:
            f.write(header.readline())
        for i in range(src.frames):
            f.write(b"FRAME\n")
            for plane, m in zip(src.planes(i), (my, mc, mc)):
                f.write(cv2.inpaint(np.ascontiguousarray(plane), m, radius, flag).tobytes())
    return time.perf_counter() - t, cpu_seconds(resource.RUSAGE_SELF) - c


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", required=True, help="the inpaint_y4m example (release build)")
    ap.add_argument("--framejet", required=True, help="the framejet binary (release build)")
    ap.add_argument("--out", required=True, type=Path, help="work folder")
    ap.add_argument("--table", required=True, type=Path, help="markdown table to write")
    ap.add_argument("--sizes", default="1920x1080,640x360")
    ap.add_argument("--scenes", default="pan,still")
    ap.add_argument("--marks", default="semi,opaque")
    ap.add_argument("--methods",
                    default="framejet,framejet-logo,delogo,removelogo,telea,ns,framejet-job,delogo-job")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--job-crf", type=int, default=0,
                    help="x264 CRF of the whole jobs' input and output (0: lossless)")
    ap.add_argument("--job-preset", default="ultrafast",
                    help="x264 preset of the whole jobs' input and output")
    ap.add_argument("--job-runs", type=int, default=1,
                    help="timed runs of the whole jobs (median taken)")
    ap.add_argument("--runs", type=int, default=3,
                    help="timed runs of framejet, framejet-logo and delogo (median taken)")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    tex = make_texture(out)
    methods = args.methods.split(",")
    rows = []
    for size_s in args.sizes.split(","):
        w, h = map(int, size_s.split("x"))
        scale = w / 1920
        logos = make_logos(out, scale)
        places = {"semi": (round(1380 * scale / 2) * 2, round(880 * scale / 2) * 2),
                  "opaque": (round(80 * scale / 2) * 2, round(60 * scale / 2) * 2)}
        for scene in args.scenes.split(","):
            clean_mkv = make_clean(out, tex, scene, (w, h), args.frames)
            clean_y4m = out / f"clean_{scene}_{w}x{h}.y4m"
            decode_y4m(clean_mkv, clean_y4m)
            clean = Y4M(clean_y4m)
            for mark in args.marks.split(","):
                logo_path, alpha = logos[mark]
                lx, ly = places[mark]
                # The mask: every pixel the logo touches, grown by 2 (soft edges, chroma).
                mask_y = np.zeros((h, w), np.uint8)
                mask_y[ly:ly + alpha.shape[0], lx:lx + alpha.shape[1]] = alpha > 0
                mask_y = cv2.dilate(mask_y, np.ones((5, 5), np.uint8)) > 0
                mask_c = mask_y.reshape(h // 2, 2, w // 2, 2).any(axis=(1, 3))
                ys, xs = np.nonzero(mask_y)
                bbox = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
                mask_png = out / f"mask_{mark}_{w}x{h}.png"
                cv2.imwrite(str(mask_png), mask_y.astype(np.uint8) * 255)
                marked = out / f"marked_{scene}_{mark}_{w}x{h}.mkv"
                sh(["ffmpeg", "-v", "error", "-i", str(clean_mkv), "-i", str(logo_path),
                    "-filter_complex",
                    "[1:v]format=rgba,scale=out_color_matrix=bt709:out_range=tv,format=yuva420p[l];"
                    f"[0:v][l]overlay=x={lx}:y={ly}:format=yuv420",
                    "-c:v", "ffv1", "-y", str(marked)])
                ref_change = clean_change(clean, mask_y)
                # Every method reads the same decoded y4m and writes y4m: the timings are of
                # the removal (and raw I/O), not of decoding.
                # Whole jobs read and write H.264 at --job-crf and --job-preset (by default
                # lossless, x264 ultrafast CRF 0: cheap to decode and encode next to FFV1, so the
                # removal still shows in the timing).
                crf, preset = str(args.job_crf), args.job_preset
                marked_h264 = out / f"marked_{scene}_{mark}_{w}x{h}.crf{crf}.h264.mkv"
                if any(m.endswith("-job") for m in methods):
                    sh(["ffmpeg", "-v", "error", "-i", str(marked), "-c:v", "libx264", "-preset",
                        preset, "-crf", crf, "-y", str(marked_h264)])
                job_json = out / f"job_{scene}_{mark}_{w}x{h}.json"
                job_json.write_text(json.dumps({
                    "inputs": [{"src": str(marked_h264)}],
                    "steps": [{"native": "inpaint", "mask": {"png": str(mask_png)}}],
                    "output": {"container": "mkv", "audio": {"codec": "none"},
                               "video": {"codec": "h264", "rate": {"crf": args.job_crf},
                                         "preset": preset, "hw": "cpu"}},
                }))
                marked_y4m = out / f"marked_{scene}_{mark}_{w}x{h}.y4m"
                decode_y4m(marked, marked_y4m)
                bx, by, bw, bh = bbox[0], bbox[1], bbox[2] - bbox[0], bbox[3] - bbox[1]
                # delogo needs its rectangle strictly inside the frame.
                dx0, dy0 = max(bx, 1), max(by, 1)
                dw, dh = min(bx + bw, w - 1) - dx0, min(by + bh, h - 1) - dy0
                ffmpeg = f"ffmpeg -v error -i {marked_y4m} -vf"
                commands = {
                    "framejet": f"{args.bin} --mask {mask_png} < {marked_y4m} > {{dst}}",
                    "framejet-logo": f"{args.bin} --mask {mask_png} --logo {logo_path} --logo-at {lx},{ly} < {marked_y4m} > {{dst}}",
                    "delogo": f"{ffmpeg} delogo=x={dx0}:y={dy0}:w={dw}:h={dh} -f yuv4mpegpipe -y {{dst}}",
                    "removelogo": f"{ffmpeg} removelogo=filename={mask_png} -f yuv4mpegpipe -y {{dst}}",
                    # Whole jobs: H.264 in and out, no y4m.
                    "framejet-job": f"{args.framejet} run {job_json} -o {{dst}} -y --json > {{dst}}.events",
                    "delogo-job": f"ffmpeg -v error -i {marked_h264} -vf delogo=x={dx0}:y={dy0}:w={dw}:h={dh} "
                                  f"-c:v libx264 -preset {preset} -crf {crf} -y {{dst}}",
                }
                wanted = [m for m in methods if not (m == "framejet-logo" and mark != "semi")]
                out_of = lambda method: out / f"out_{scene}_{mark}_{method}_{w}x{h}.y4m"
                # The fast methods are timed --runs times, interleaved so that a change in the
                # machine's load touches each of them alike, writing to /dev/null so that no run
                # pays for the page cache of a 300 MB output; medians are kept. One more run
                # each writes the output measured.
                fast = [m for m in wanted if m in ("framejet", "framejet-logo", "delogo")]
                timings = {m: [] for m in fast}
                for _ in range(max(args.runs, 1)):
                    for method in fast:
                        timings[method].append(run_pipeline(commands[method].format(dst="/dev/null")))
                        print(f"  timed {method}: {timings[method][-1][0]:.2f} s wall, "
                              f"{timings[method][-1][1]:.2f} s CPU", flush=True)
                # Whole jobs are timed --job-runs times, interleaved too; the last run's
                # output is measured.
                jobs = [m for m in wanted if m.endswith("-job")]
                for _ in range(max(args.job_runs, 1)):
                    for method in jobs:
                        os.sync()
                        mkv = out_of(method).with_suffix(".mkv")
                        timings.setdefault(method, []).append(
                            run_pipeline(commands[method].format(dst=mkv)))
                        print(f"  timed {method}: {timings[method][-1][0]:.2f} s wall, "
                              f"{timings[method][-1][1]:.2f} s CPU", flush=True)
                        # framejet's job log: where the time went (plan, segments, join) and
                        # what the step did.
                        log = Path(f"{mkv}.log")
                        if log.exists():
                            for line in log.read_text().splitlines():
                                if "timings:" in line or "[INFO] step" in line:
                                    print("   ", line.split(" ", 1)[-1], flush=True)
                median = lambda times, k: sorted(t[k] for t in times)[len(times) // 2]
                for method in wanted:
                    dst = out_of(method)
                    os.sync()
                    if method in fast:
                        run_pipeline(commands[method].format(dst=dst))
                        secs, cpu = median(timings[method], 0), median(timings[method], 1)
                    elif method.endswith("-job"):
                        mkv = dst.with_suffix(".mkv")
                        secs, cpu = median(timings[method], 0), median(timings[method], 1)
                        decode_y4m(mkv, dst)
                        for leftover in (mkv, Path(f"{mkv}.events"), Path(f"{mkv}.log")):
                            if leftover.exists():
                                os.remove(leftover)
                    elif method in commands:
                        secs, cpu = run_pipeline(commands[method].format(dst=dst))
                    else:
                        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
                        secs, cpu = run_opencv(marked_y4m, dst, mask_y, mask_c, flag)
                    result = Y4M(dst)
                    m = measure(result, clean, mask_y, mask_c, bbox, 1 if w * h < 1e6 else 4)
                    m.update(size=f"{w}x{h}", scene=scene, mark=mark, method=method,
                             fps=result.frames / secs, cpu_ms=1000 * cpu / result.frames,
                             clean_change=ref_change)
                    rows.append(m)
                    print(f"{m['size']} {scene:5} {mark:6} {method:13} PSNR-Y mask {m['psnr_y']:6.2f} dB, "
                          f"UV {m['psnr_uv']:6.2f} dB, SSIM box {m['ssim_box']:.4f}, "
                          f"frame {m['psnr_frame']:6.2f} dB / {m['ssim_frame']:.4f}, "
                          f"change {m['change']:.2f} (clean {ref_change:.2f}), flicker {m['flicker']:.2f}, "
                          f"{m['fps']:.1f} fps, {m['cpu_ms']:.1f} CPU ms/frame", flush=True)
                    os.remove(dst)
                os.remove(marked_y4m)
                if marked_h264.exists():
                    os.remove(marked_h264)
            os.remove(clean_y4m)
    write_table(rows, args)


def write_table(rows, args):
    lines = [
        "# Watermark removal yardstick",
        "",
        f"Measured in one run of `bench/inpaint/run.sh` on {os.cpu_count()} CPU cores; "
        f"{args.frames} frames per clip at {FPS} fps; framejet, framejet-logo and delogo timed "
        f"{args.runs} times, the whole jobs {args.job_runs} (medians; jobs in H.264 at CRF "
        f"{args.job_crf}, `{args.job_preset}`). See `bench/inpaint/README.md` for the clips, "
        "marks and metrics.",
        "",
        "PSNR and SSIM are against the clean clip. *mask*: the masked pixels (luma; chroma in "
        "*UV*); *box*: SSIM over the mask's bounding box (luma); *frame*: the whole frame "
        "(luma). *change*: mean absolute frame-to-frame luma change inside the mask (the clean "
        "clip's in brackets); *flicker*: mean absolute difference between the output's and the "
        "clean clip's frame-to-frame change inside the mask (0 is perfect). *fps*: frames per "
        "second of the whole command, reading y4m and (timed runs of the fast methods) writing "
        "it to /dev/null (wall clock, on a machine shared with other work); *CPU ms*: CPU time per frame of everything the command ran.",
        "",
    ]
    for size in dict.fromkeys(r["size"] for r in rows):
        lines += [f"## {size}", "",
                  "| scene | mark | method | PSNR mask dB | PSNR UV dB | SSIM box | PSNR frame dB | SSIM frame | change (clean) | flicker | fps | CPU ms |",
                  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows:
            if r["size"] != size:
                continue
            lines.append(
                f"| {r['scene']} | {r['mark']} | {r['method']} | {r['psnr_y']:.2f} | {r['psnr_uv']:.2f} | "
                f"{r['ssim_box']:.4f} | {r['psnr_frame']:.2f} | {r['ssim_frame']:.4f} | "
                f"{r['change']:.2f} ({r['clean_change']:.2f}) | {r['flicker']:.2f} | {r['fps']:.1f} | "
                f"{r['cpu_ms']:.1f} |")
        lines.append("")
    # Margins over the best baseline, per size, scene and mark.
    lines += ["## framejet against the best baseline (PSNR inside the mask, luma)", "",
              "| size | scene | mark | framejet dB | best baseline | margin dB |", "| --- | --- | --- | ---: | --- | ---: |"]
    baselines = {"delogo", "removelogo", "telea", "ns"}
    keys = dict.fromkeys((r["size"], r["scene"], r["mark"]) for r in rows)
    for key in keys:
        group = [r for r in rows if (r["size"], r["scene"], r["mark"]) == key]
        ours = [r for r in group if r["method"] == "framejet"]
        base = [r for r in group if r["method"] in baselines]
        if ours and base:
            best = max(base, key=lambda r: r["psnr_y"])
            lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {ours[0]['psnr_y']:.2f} | {best['method']} "
                         f"{best['psnr_y']:.2f} | {ours[0]['psnr_y'] - best['psnr_y']:+.2f} |")
    # Speed: removal alone (y4m in and out), and whole jobs (H.264 in and out).
    lines += ["", "## Speed against delogo (frames per second, wall clock; CPU ms per frame)", "",
              "| size | scene | mark | framejet | framejet, logo PNG | delogo | framejet job | delogo job |",
              "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for key in keys:
        group = {r["method"]: r for r in rows if (r["size"], r["scene"], r["mark"]) == key}
        cell = lambda m: f"{group[m]['fps']:.0f} ({group[m]['cpu_ms']:.1f})" if m in group else "—"
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(
            cell(m) for m in ["framejet", "framejet-logo", "delogo", "framejet-job", "delogo-job"]) + " |")
    text = "\n".join(lines) + "\n"
    args.table.parent.mkdir(parents=True, exist_ok=True)
    args.table.write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    sys.exit(main())
