//! `gpu-bench`: frames per second of the per-pixel work of a segment, CPU and GPU side by side
//! in one run, at 1080p and 4K:
//!
//! - **inpaint**: the CPU row is the whole inpaint step per frame (`framejet_inpaint::Inpainter`,
//!   an opaque mark over a panning texture: motion search, temporal and spatial fill, checks);
//!   the GPU row is its kernels on frames already on the device (temporal fill from four
//!   frames, spatial fill of what they do not show, blend inversion over the mark's box).
//! - **composite**: an overlay with soft alpha and a translucent rectangle.
//! - **fit**: 1080p to 4K and 4K to 1080p (bicubic), from and to device frames.
//! - **several segments**: the 1080p inpaint kernels on 2, 4 and 8 streams at once, their
//!   frames per second summed (the target: N streams at least 0.8·N times one).
//!
//! Where no GPU is, the GPU column says why. Built without the `media` feature (for a bare
//! CUDA machine, no FFmpeg), the CPU rows of compositing and fit say so.
//!
//! Usage: `gpu-bench [--frames N] [--sizes 1920x1080,3840x2160] [--out table.md]`

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use framejet_gpu::{
    Backend, DeviceFit, DeviceFrame, DeviceHoles, DeviceImage, DeviceInversion, DeviceSource,
    DeviceTaps, FitPlacement, Gpu, GpuStream, SpatialFill, blend, bytes_of, fill_rect,
    temporal_fill,
};
use framejet_inpaint::reference;
use framejet_inpaint::{Anisotropy, InpaintConfig, Inpainter, MarkModel, Mask, Rect, Yuv420Frame};

struct Options {
    frames: usize,
    sizes: Vec<(usize, usize)>,
    out: Option<std::path::PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        frames: 120,
        sizes: vec![(1920, 1080), (3840, 2160)],
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--frames" => o.frames = value.parse().expect("--frames N"),
            "--sizes" => {
                o.sizes = value
                    .split(',')
                    .map(|s| {
                        let (w, h) = s.split_once('x').expect("--sizes WxH,WxH");
                        (w.parse().unwrap(), h.parse().unwrap())
                    })
                    .collect()
            }
            "--out" => o.out = Some(value.into()),
            other => panic!("unknown flag {other}"),
        }
    }
    o
}

/// A smooth random texture (`w` x `h`, luma), tiled wider than the frame so it can pan.
fn texture(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let coarse: Vec<u8> = (0..(w / 8 + 2) * (h / 8 + 2))
        .map(|_| (next() % 200 + 28) as u8)
        .collect();
    let cw = w / 8 + 2;
    (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let (cx, cy) = (x / 8, y / 8);
            let (fx, fy) = ((x % 8) as u32, (y % 8) as u32);
            let v = |dx: usize, dy: usize| u32::from(coarse[(cy + dy) * cw + cx + dx]);
            let top = v(0, 0) * (8 - fx) + v(1, 0) * fx;
            let bottom = v(0, 1) * (8 - fx) + v(1, 1) * fx;
            ((top * (8 - fy) + bottom * fy) / 64) as u8
        })
        .collect()
}

/// Frame `k` of a 6 px/frame pan over the texture, with an opaque grey box over the mark.
fn frame(tex: &[u8], tw: usize, w: usize, h: usize, k: usize, mark: [usize; 4]) -> Yuv420Frame {
    let mut f = Yuv420Frame::new(w, h);
    {
        let y = f.data_mut(0);
        for row in 0..h {
            let src = &tex[row * tw + 6 * k..][..w];
            y[row * w..][..w].copy_from_slice(src);
        }
        let [mx, my, mw, mh] = mark;
        for row in my..my + mh {
            y[row * w + mx..][..mw].fill(200);
        }
    }
    f
}

/// The mark: a box a sixth of the frame wide and a ninth high, near the bottom right.
fn mark_of(w: usize, h: usize) -> [usize; 4] {
    let (mw, mh) = ((w / 6) & !1, (h / 9) & !1);
    [(w - mw - w / 20) & !1, (h - mh - h / 12) & !1, mw, mh]
}

fn fps(frames: usize, seconds: f64) -> f64 {
    frames as f64 / seconds.max(1e-9)
}

/// The CPU inpaint step, frames per second.
fn cpu_inpaint(w: usize, h: usize, frames: usize) -> f64 {
    let mark = mark_of(w, h);
    let tw = w + 6 * (frames + 8);
    let tex = texture(tw, h, 7);
    let rect = Rect::new(
        mark[0] as i64,
        mark[1] as i64,
        mark[2] as u64,
        mark[3] as u64,
    );
    let mask = Mask::from_rect(rect, w, h).unwrap();
    let config = InpaintConfig::default().mark(MarkModel::Opaque);
    let mut inpainter = Inpainter::new(config, mask).unwrap();
    let input: Vec<Yuv420Frame> = (0..frames)
        .map(|k| frame(&tex, tw, w, h, k, mark))
        .collect();
    let start = Instant::now();
    let mut out = 0;
    for f in input {
        out += inpainter.push(f).unwrap().len();
    }
    out += inpainter.finish().unwrap().len();
    assert_eq!(out, frames);
    fps(frames, start.elapsed().as_secs_f64())
}

/// The inpaint kernels on the GPU over device-resident frames, frames per second.
fn gpu_inpaint(s: &GpuStream, w: usize, h: usize, frames: usize) -> f64 {
    let [mx, my, mw, mh] = mark_of(w, h);
    let tw = w + 6 * 16;
    let tex = texture(tw, h, 7);
    let ring: Vec<DeviceFrame<GpuStream>> = (0..5)
        .map(|k| {
            let f = frame(&tex, tw, w, h, k, [mx, my, mw, mh]);
            let mut d = DeviceFrame::new(s, w, h).unwrap();
            d.upload(s, [f.data(0), f.data(1), f.data(2)], [w, w / 2, w / 2])
                .unwrap();
            d
        })
        .collect();
    // Sources: whole frames, blocked over the mark grown by 2 px.
    let exact: Vec<u8> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            u8::from(x + 2 >= mx && x < mx + mw + 2 && y + 2 >= my && y < my + mh + 2)
        })
        .collect();
    let wide = reference::widen(&exact, w, h);
    let (exact, wide) = (s.upload_new(&exact).unwrap(), s.upload_new(&wide).unwrap());
    let holes: Vec<(u32, u32)> = (my..my + mh)
        .flat_map(|y| (mx..mx + mw).map(move |x| (x as u32, y as u32)))
        .collect();
    let taps = DeviceTaps::upload(s).unwrap();
    // The spatial fill's share: a tenth of the box (what no source shows at a frame's edge).
    let (bw, bh) = (mw, mh);
    let unknown: Vec<u8> = (0..bw * bh).map(|i| u8::from(i % bw < bw / 10)).collect();
    let mut fill = SpatialFill::new(s, &unknown, bw, bh, Anisotropy::ISOTROPIC).unwrap();
    let mut values = s.upload_new(bytes_of(&vec![100.0f32; bw * bh])).unwrap();
    let alpha: Vec<f32> = (0..bw * bh)
        .map(|i| 0.1 + 0.7 * (i % 7) as f32 / 7.0)
        .collect();
    let premul: Vec<f32> = alpha.iter().map(|a| a * 230.0).collect();
    let kind: Vec<u8> = alpha
        .iter()
        .map(|&a| reference::pixel_kind(a, 0.9))
        .collect();
    let inv =
        DeviceInversion::upload(s, [mx, my, mx + mw, my + mh], &kind, &alpha, &premul).unwrap();
    let mut target = DeviceFrame::new(s, w, h).unwrap();
    let mut run = |n: usize, target: &mut DeviceFrame<GpuStream>, values: &mut _| {
        for k in 0..n {
            let hole_state = DeviceHoles::upload(s, &holes, &vec![false; holes.len()]).unwrap();
            let sources: Vec<DeviceSource<'_, GpuStream>> = (1..5)
                .map(|d| DeviceSource {
                    plane: &ring[(k + d) % 5].planes[0].buf,
                    exact: &exact,
                    wide: &wide,
                    w,
                    h,
                    x0: 0,
                    y0: 0,
                    dx: 6.0 * d as f32 + 0.25,
                    dy: 0.0,
                    linear: [0.0; 4],
                })
                .collect();
            temporal_fill(s, &mut target.planes[0], &hole_state, &sources, &taps).unwrap();
            fill.run(s, values).unwrap();
            inv.apply(s, &mut target.planes[0]).unwrap();
        }
        s.synchronize().unwrap();
    };
    run(3, &mut target, &mut values);
    let start = Instant::now();
    run(frames, &mut target, &mut values);
    fps(frames, start.elapsed().as_secs_f64())
}

/// An overlay a quarter of the frame wide with soft alpha (Y, U, V, A planes).
fn overlay(w: usize, h: usize) -> (usize, usize, [Vec<u8>; 4]) {
    let (iw, ih) = (w / 4, h / 6);
    let plane = |k: usize| {
        (0..iw * ih)
            .map(|i| ((i * (3 + k) + k * 40) % 256) as u8)
            .collect()
    };
    let alpha = (0..iw * ih).map(|i| ((i % iw) * 255 / iw) as u8).collect();
    (iw, ih, [plane(0), plane(1), plane(2), alpha])
}

fn gpu_composite(s: &GpuStream, w: usize, h: usize, frames: usize) -> f64 {
    let (iw, ih, [y, u, v, a]) = overlay(w, h);
    let image = DeviceImage::upload(s, iw, ih, [&y, &u, &v, &a]).unwrap();
    let mut f = DeviceFrame::new(s, w, h).unwrap();
    let mut run = |n: usize| {
        for k in 0..n {
            blend(s, &mut f, &image, 37 + (k % 9) as i32, 41, 0.9).unwrap();
            fill_rect(
                s,
                &mut f,
                100,
                100,
                w as u32 / 3,
                h as u32 / 8,
                [60, 120, 140],
                128,
            )
            .unwrap();
        }
        s.synchronize().unwrap();
    };
    run(3);
    let start = Instant::now();
    run(frames);
    fps(frames, start.elapsed().as_secs_f64())
}

fn placement(src: (usize, usize), dst: (usize, usize)) -> FitPlacement {
    FitPlacement {
        src_x: 0,
        src_y: 0,
        src_w: src.0 as u32,
        src_h: src.1 as u32,
        dst_x: 0,
        dst_y: 0,
        dst_w: dst.0 as u32,
        dst_h: dst.1 as u32,
    }
}

fn gpu_fit(s: &GpuStream, src: (usize, usize), dst: (usize, usize), frames: usize) -> f64 {
    let fit = DeviceFit::new(s, placement(src, dst), dst.0, dst.1, [16, 128, 128]).unwrap();
    let tex = texture(src.0, src.1, 3);
    let mut input = DeviceFrame::new(s, src.0, src.1).unwrap();
    let chroma = vec![128u8; src.0.div_ceil(2) * src.1.div_ceil(2)];
    input
        .upload(
            s,
            [&tex, &chroma, &chroma],
            [src.0, src.0.div_ceil(2), src.0.div_ceil(2)],
        )
        .unwrap();
    let mut out = DeviceFrame::new(s, dst.0, dst.1).unwrap();
    let mut run = |n: usize| {
        for _ in 0..n {
            fit.run(s, &input, &mut out).unwrap();
        }
        s.synchronize().unwrap();
    };
    run(3);
    let start = Instant::now();
    run(frames);
    fps(frames, start.elapsed().as_secs_f64())
}

#[cfg(feature = "media")]
mod cpu_media {
    use super::*;
    use framejet_media::{ColorMatrix, FitMode, Fitter, RgbaImage, VideoFrame, YuvaImage};

    pub fn composite(w: usize, h: usize, frames: usize) -> Result<f64, String> {
        let (iw, ih, [y, _, _, a]) = overlay(w, h);
        let rgba = RgbaImage {
            width: iw as u32,
            height: ih as u32,
            pixels: y
                .iter()
                .zip(&a)
                .flat_map(|(&v, &al)| [v, v / 2, 255 - v, al])
                .collect(),
        };
        let image = YuvaImage::from_image(&rgba, ColorMatrix::for_height(h as u32))
            .map_err(|e| e.to_string())?;
        let mut f = VideoFrame::black(w as u32, h as u32).map_err(|e| e.to_string())?;
        let start = Instant::now();
        for k in 0..frames {
            framejet_media::blend(&mut f, &image, 37 + (k % 9) as i32, 41, 0.9);
            framejet_media::fill_rect(
                &mut f,
                100,
                100,
                w as u32 / 3,
                h as u32 / 8,
                [60, 120, 140, 128],
            );
        }
        Ok(fps(frames, start.elapsed().as_secs_f64()))
    }

    pub fn fit(src: (usize, usize), dst: (usize, usize), frames: usize) -> Result<f64, String> {
        let (sw, sh, dw, dh) = (src.0 as u32, src.1 as u32, dst.0 as u32, dst.1 as u32);
        let mut fitter =
            Fitter::new(sw, sh, dw, dh, FitMode::Stretch, [0, 0, 0]).map_err(|e| e.to_string())?;
        let input = VideoFrame::black(sw, sh).map_err(|e| e.to_string())?;
        let start = Instant::now();
        for _ in 0..frames {
            fitter.fit(input.clone()).map_err(|e| e.to_string())?;
        }
        Ok(fps(frames, start.elapsed().as_secs_f64()))
    }
}

#[cfg(not(feature = "media"))]
mod cpu_media {
    const WHY: &str = "not built (no FFmpeg: --no-default-features)";

    pub fn composite(_: usize, _: usize, _: usize) -> Result<f64, String> {
        Err(WHY.into())
    }

    pub fn fit(_: (usize, usize), _: (usize, usize), _: usize) -> Result<f64, String> {
        Err(WHY.into())
    }
}

fn cell(r: &Result<f64, String>) -> String {
    match r {
        Ok(v) => format!("{v:.1}"),
        Err(e) => e.clone(),
    }
}

fn ratio(gpu: &Result<f64, String>, cpu: &Result<f64, String>) -> String {
    match (gpu, cpu) {
        (Ok(g), Ok(c)) => format!("{:.1}x", g / c),
        _ => "-".into(),
    }
}

fn main() {
    let o = options();
    let gpu = Gpu::open(None).map_err(|e| e.to_string());
    let stream = gpu
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|g| g.stream().map_err(|e| e.to_string()));
    let device = match &gpu {
        Ok(g) => format!("{} ({} MiB)", g.info().name, g.info().memory_total >> 20),
        Err(e) => format!("{e} (the GPU column is skipped)"),
    };
    let mut rows = Vec::new();
    for &(w, h) in &o.sizes {
        let n = o.frames;
        let on_gpu = |f: &dyn Fn(&GpuStream) -> f64| {
            stream.as_ref().map(f).map_err(|_| "skipped".to_string())
        };
        let cpu = Ok(cpu_inpaint(w, h, n));
        let g = on_gpu(&|s| gpu_inpaint(s, w, h, n));
        rows.push((format!("inpaint {w}x{h}"), cpu, g));
        let cpu = cpu_media::composite(w, h, n);
        let g = on_gpu(&|s| gpu_composite(s, w, h, n));
        rows.push((format!("composite {w}x{h}"), cpu, g));
        let (half, double) = ((w / 2, h / 2), (w * 2, h * 2));
        let target = if w >= 3840 { half } else { double };
        let cpu = cpu_media::fit((w, h), target, n.min(60));
        let g = on_gpu(&|s| gpu_fit(s, (w, h), target, n.min(60)));
        rows.push((format!("fit {w}x{h} -> {}x{}", target.0, target.1), cpu, g));
    }
    // Several segments on one GPU: the 1080p inpaint kernels on N streams at once.
    if let Ok(g) = &gpu {
        let one = rows
            .first()
            .and_then(|r| r.2.as_ref().ok())
            .copied()
            .unwrap_or(0.0);
        for n in [2usize, 4, 8] {
            let total: f64 = std::thread::scope(|scope| {
                let runs: Vec<_> = (0..n)
                    .map(|_| {
                        scope.spawn(|| {
                            let s = g.stream().unwrap();
                            gpu_inpaint(&s, 1920, 1080, o.frames)
                        })
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().unwrap()).sum()
            });
            rows.push((
                format!(
                    "inpaint 1920x1080, {n} streams at once ({:.2}x one)",
                    total / one.max(1e-9)
                ),
                Err("-".into()),
                Ok(total),
            ));
        }
    }
    let mut table = format!(
        "GPU: {device}\n\n| work | CPU fps | GPU fps | GPU / CPU |\n|---|---:|---:|---:|\n"
    );
    for (name, cpu, g) in &rows {
        table += &format!(
            "| {name} | {} | {} | {} |\n",
            cell(cpu),
            cell(g),
            ratio(g, cpu)
        );
    }
    if let Ok(g) = &gpu {
        table += &format!(
            "\nGPU memory held by the benchmark's stream: {} MiB\n",
            g.memory_held() >> 20
        );
    }
    print!("{table}");
    if let Some(path) = o.out {
        std::fs::write(&path, &table).unwrap();
    }
}
