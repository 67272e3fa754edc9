//! The CUDA kernels against their twins, on real frames.
//!
//! - `emulated/…`: the kernel sources compiled for the CPU against the Rust scalar definitions
//!   (`framejet_inpaint::reference`): run everywhere, exact.
//! - `cuda/…`: the same kernels on the GPU against the emulation and the Rust definitions: run
//!   where a GPU is found; elsewhere each is reported `ignored (skipped: <reason>)` and counted
//!   in the summary. `FRAMEJET_GPU_TESTS=1` makes a missing GPU a failure instead.
//!
//! Frames come from `FRAMEJET_TEST_Y4M` (a yuv420p y4m file), else from the repository's
//! `examples/media/clean.mp4` through the `ffmpeg` command.
//!
//! Compositing and `fit` are compared with `framejet-media`'s CPU code in that crate's tests
//! (`gpu_twins`), which link FFmpeg; here their GPU run is compared with the emulation.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use framejet_gpu::{
    Backend, DeviceFit, DeviceFrame, DeviceHoles, DeviceImage, DeviceInversion, DevicePlane,
    DeviceSource, DeviceTaps, Emulated, FitPlacement, Gpu, InpaintDevice, SpatialFill, blend,
    bytes_of, f32s_of, fill_rect, temporal_fill,
};
use framejet_inpaint::reference::{self, Anisotropy, TemporalSource};
use framejet_inpaint::{
    InpaintConfig, InpaintStats, Inpainter, KernelDevice, Kernels, LogoModel, MarkModel,
    Yuv420Frame,
};
use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// A decoded yuv420p frame.
#[derive(Clone)]
struct Frame {
    w: usize,
    h: usize,
    planes: [Vec<u8>; 3],
}

fn read_y4m(bytes: &[u8]) -> Vec<Frame> {
    let header_end = bytes.iter().position(|&b| b == b'\n').expect("y4m header");
    let header = std::str::from_utf8(&bytes[..header_end]).expect("y4m header is text");
    let field = |c: char| {
        header
            .split(' ')
            .find_map(|f| f.strip_prefix(c))
            .and_then(|v| v.parse::<usize>().ok())
            .expect("y4m size")
    };
    let (w, h) = (field('W'), field('H'));
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut frames = Vec::new();
    let mut at = header_end + 1;
    while at < bytes.len() {
        let line = at
            + bytes[at..]
                .iter()
                .position(|&b| b == b'\n')
                .expect("FRAME line");
        at = line + 1;
        let y = bytes[at..at + w * h].to_vec();
        at += w * h;
        let u = bytes[at..at + cw * ch].to_vec();
        at += cw * ch;
        let v = bytes[at..at + cw * ch].to_vec();
        at += cw * ch;
        frames.push(Frame {
            w,
            h,
            planes: [y, u, v],
        });
    }
    frames
}

/// Six consecutive frames of real video.
fn frames() -> &'static [Frame] {
    static FRAMES: OnceLock<Vec<Frame>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        if let Ok(path) = std::env::var("FRAMEJET_TEST_Y4M") {
            return read_y4m(&std::fs::read(&path).expect("FRAMEJET_TEST_Y4M is readable"));
        }
        let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/media/clean.mp4");
        let out = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-ss", "2", "-i"])
            .arg(&clip)
            .args([
                "-frames:v",
                "6",
                "-pix_fmt",
                "yuv420p",
                "-f",
                "yuv4mpegpipe",
                "-",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("ffmpeg runs (or set FRAMEJET_TEST_Y4M to a y4m file)");
        assert!(out.status.success(), "ffmpeg failed on {}", clip.display());
        read_y4m(&out.stdout)
    })
}

/// A semi-transparent disc with an opaque core and a ring of text-like stripes, `bw` x `bh`:
/// alpha per pixel (0 outside the mark).
fn mark_alpha(bw: usize, bh: usize) -> Vec<f32> {
    let (cx, cy, r) = (bw as f32 / 2.0, bh as f32 / 2.0, bw.min(bh) as f32 * 0.45);
    (0..bw * bh)
        .map(|i| {
            let (x, y) = ((i % bw) as f32 + 0.5, (i / bw) as f32 + 0.5);
            let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() / r;
            if d < 0.3 {
                0.95
            } else if d < 1.0 {
                0.2 + 0.5 * ((x * 0.7).sin() * 0.5 + 0.5) * (1.0 - d)
            } else {
                0.0
            }
        })
        .collect()
}

/// One plane of a frame with a mark blended in: the box, kinds, alpha and premul.
struct Marked {
    plane: Vec<u8>,
    w: usize,
    bounds: [usize; 4],
    kind: Vec<u8>,
    alpha: Vec<f32>,
    premul: Vec<f32>,
}

/// A quarter-frame mark right of the centre.
fn marked_luma(frame: &Frame) -> Marked {
    marked_luma_at(
        frame,
        [frame.w / 2 + 3, frame.h / 3 + 1, frame.w / 4, frame.h / 4],
    )
}

/// A mark of `bw` x `bh` at (`x0`, `y0`).
fn marked_luma_at(frame: &Frame, [x0, y0, bw, bh]: [usize; 4]) -> Marked {
    let alpha = mark_alpha(bw, bh);
    let premul: Vec<f32> = alpha
        .iter()
        .enumerate()
        .map(|(i, a)| a * (60.0 + (i * 37 % 190) as f32))
        .collect();
    let kind: Vec<u8> = alpha
        .iter()
        .map(|&a| reference::pixel_kind(a, 0.9))
        .collect();
    let mut plane = frame.planes[0].clone();
    for y in 0..bh {
        for x in 0..bw {
            let (i, p) = (y * bw + x, (y0 + y) * frame.w + x0 + x);
            let o = premul[i] + (1.0 - alpha[i]) * f32::from(plane[p]);
            plane[p] = o.round().clamp(0.0, 255.0) as u8;
        }
    }
    Marked {
        plane,
        w: frame.w,
        bounds: [x0, y0, x0 + bw, y0 + bh],
        kind,
        alpha,
        premul,
    }
}

fn check_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: &[T],
    want: &[T],
) -> Result<(), Failed> {
    if got.len() != want.len() {
        return Err(format!("{what}: {} values, expected {}", got.len(), want.len()).into());
    }
    let diffs: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
    if let Some(&i) = diffs.first() {
        return Err(format!(
            "{what}: {} of {} values differ; first at {i}: {:?}, expected {:?}",
            diffs.len(),
            got.len(),
            got[i],
            want[i]
        )
        .into());
    }
    Ok(())
}

fn gpu_err(e: framejet_gpu::GpuError) -> Failed {
    e.to_string().into()
}

// --- The scenarios, each run on a backend. ---

fn invert_on<B: Backend>(b: &B, m: &Marked) -> Result<Vec<u8>, Failed> {
    let h = m.plane.len() / m.w;
    let mut plane = DevicePlane::new(b, m.w, h).map_err(gpu_err)?;
    plane.upload(b, &m.plane, m.w).map_err(gpu_err)?;
    let inv =
        DeviceInversion::upload(b, m.bounds, &m.kind, &m.alpha, &m.premul).map_err(gpu_err)?;
    inv.apply(b, &mut plane).map_err(gpu_err)?;
    let mut out = vec![0; m.plane.len()];
    plane.download(b, &mut out, m.w).map_err(gpu_err)?;
    Ok(out)
}

fn invert_reference(m: &Marked) -> Vec<u8> {
    let mut plane = m.plane.clone();
    reference::invert(&mut plane, m.w, m.bounds, &m.kind, &m.alpha, &m.premul);
    plane
}

/// A source of a temporal case: plane, blocked map, motion at the centre and linear part
/// (`TemporalSource`'s).
type CaseSource = (Vec<u8>, Vec<u8>, f32, f32, [f32; 4]);

/// The holes of the mark's box in frame 3, filled from frames 2, 3, 4, 1, 5 moved by fractional
/// and whole offsets and a zoom, each source blocked where the mark sits.
struct Temporal {
    target: Vec<u8>,
    w: usize,
    holes: Vec<(u32, u32)>,
    sources: Vec<CaseSource>,
    crop: [usize; 4],
}

impl Temporal {
    /// Each source's map of what is not background, widened to a read's footprint.
    fn wide(&self) -> Vec<Vec<u8>> {
        let [_, _, cw, ch] = self.crop;
        self.sources
            .iter()
            .map(|s| reference::widen(&s.1, cw, ch))
            .collect()
    }

    /// The sources as the reference and the devices take them (`wide` from [`Self::wide`]).
    fn views<'a>(&'a self, wide: &'a [Vec<u8>]) -> Vec<TemporalSource<'a>> {
        let [cx, cy, cw, ch] = self.crop;
        self.sources
            .iter()
            .zip(wide)
            .map(|((plane, blocked, dx, dy, linear), wide)| TemporalSource {
                plane,
                blocked,
                wide,
                w: cw,
                h: ch,
                x0: cx,
                y0: cy,
                dx: *dx,
                dy: *dy,
                linear: *linear,
            })
            .collect()
    }
}

fn temporal_case() -> Temporal {
    let f = frames();
    let m = marked_luma_at(&f[3], [f[3].w / 2 - 48, f[3].h / 2 - 24, 96, 48]);
    let [x0, y0, x1, y1] = m.bounds;
    let holes: Vec<(u32, u32)> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x as u32, y as u32)))
        .filter(|&(x, y)| m.alpha[(y as usize - y0) * (x1 - x0) + x as usize - x0] > 0.0)
        .collect();
    // Sources cropped to the box grown by 150 x 100 px, blocked over the mark grown by 2 px,
    // moved far enough that most holes find background: fractional and whole offsets, and a
    // zoom with a slight rotation about the mark's centre.
    let crop = [x0 - 150, y0 - 100, x1 - x0 + 300, y1 - y0 + 200];
    let centre = [(x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0];
    let translation = [0.0; 4];
    let zoom = [0.06, 0.015, centre[0], centre[1]];
    let motions = [
        (2, 100.45f32, -1.1f32, translation),
        (3, 30.0, -58.5, zoom),
        (4, -110.0, 0.0, translation),
        (1, 12.5, 60.9, translation),
        (5, -20.0, -70.0, translation),
    ];
    let sources = motions
        .iter()
        .map(|&(i, dx, dy, linear)| {
            let [cx, cy, cw, ch] = crop;
            let plane: Vec<u8> = (0..ch)
                .flat_map(|y| f[i].planes[0][(cy + y) * f[i].w + cx..][..cw].to_vec())
                .collect();
            let blocked: Vec<u8> = (0..cw * ch)
                .map(|k| {
                    let (x, y) = (cx + k % cw, cy + k / cw);
                    u8::from(x + 2 >= x0 && x < x1 + 2 && y + 2 >= y0 && y < y1 + 2)
                })
                .collect();
            (plane, blocked, dx, dy, linear)
        })
        .collect();
    Temporal {
        target: m.plane,
        w: m.w,
        holes,
        sources,
        crop,
    }
}

fn temporal_on<B: Backend>(b: &B, t: &Temporal) -> Result<(Vec<u8>, Vec<bool>), Failed> {
    let h = t.target.len() / t.w;
    let mut target = DevicePlane::new(b, t.w, h).map_err(gpu_err)?;
    target.upload(b, &t.target, t.w).map_err(gpu_err)?;
    let holes = DeviceHoles::upload(b, &t.holes, &vec![false; t.holes.len()]).map_err(gpu_err)?;
    let taps = DeviceTaps::upload(b).map_err(gpu_err)?;
    let wide = t.wide();
    let views = t.views(&wide);
    let mut buffers = Vec::new();
    for v in &views {
        buffers.push((
            b.upload_new(v.plane).map_err(gpu_err)?,
            b.upload_new(v.blocked).map_err(gpu_err)?,
            b.upload_new(v.wide).map_err(gpu_err)?,
        ));
    }
    let sources: Vec<DeviceSource<'_, B>> = buffers
        .iter()
        .zip(&views)
        .map(|((plane, exact, wide), v)| DeviceSource::of(v, (plane, exact, wide)))
        .collect();
    temporal_fill(b, &mut target, &holes, &sources, &taps).map_err(gpu_err)?;
    let mut out = vec![0; t.target.len()];
    target.download(b, &mut out, t.w).map_err(gpu_err)?;
    Ok((out, holes.filled(b).map_err(gpu_err)?))
}

fn temporal_reference(t: &Temporal) -> (Vec<u8>, Vec<bool>) {
    let mut target = t.target.clone();
    let mut filled = vec![false; t.holes.len()];
    let wide = t.wide();
    let sources = t.views(&wide);
    reference::temporal_fill(&mut target, t.w, &t.holes, &mut filled, &sources);
    (target, filled)
}

/// The mark's box of a real frame as floats, its marked pixels unknown (a hole in the middle
/// and a thin ring: several pyramid levels, and the single-pixel case of a fully unknown box).
fn spatial_case(all_unknown: bool) -> (Vec<f32>, Vec<u8>, usize, usize) {
    let m = marked_luma(&frames()[0]);
    let [x0, y0, x1, y1] = m.bounds;
    let (w, h) = (x1 - x0, y1 - y0);
    let values = (0..w * h)
        .map(|i| f32::from(frames()[0].planes[0][(y0 + i / w) * m.w + x0 + i % w]))
        .collect();
    let unknown = m
        .alpha
        .iter()
        .map(|&a| u8::from(all_unknown || a > 0.0))
        .collect();
    (values, unknown, w, h)
}

/// The shapes of fill the twins are checked with (exponents): the harmonic fill and one led
/// across holes' short sides.
const FILL_SHAPES: [f32; 2] = [0.0, 1.5];

fn spatial_on<B: Backend>(
    b: &B,
    (values, unknown, w, h): &(Vec<f32>, Vec<u8>, usize, usize),
    warm_sweeps: usize,
    shape: Anisotropy,
) -> Result<Vec<f32>, Failed> {
    let mut buf = b.upload_new(bytes_of(values)).map_err(gpu_err)?;
    let mut fill = SpatialFill::new(b, unknown, *w, *h, shape).map_err(gpu_err)?;
    fill.run(b, &mut buf).map_err(gpu_err)?;
    if warm_sweeps > 0 {
        fill.relax(b, &mut buf, warm_sweeps).map_err(gpu_err)?;
    }
    let mut out = vec![0u8; values.len() * 4];
    b.download(&buf, &mut out).map_err(gpu_err)?;
    Ok(f32s_of(&out))
}

fn spatial_reference(
    (values, unknown, w, h): &(Vec<f32>, Vec<u8>, usize, usize),
    warm_sweeps: usize,
    shape: Anisotropy,
) -> Vec<f32> {
    let mut v = values.clone();
    reference::spatial_fill(&mut v, unknown, *w, *h, shape);
    if warm_sweeps > 0 {
        reference::relax(&mut v, unknown, *w, *h, warm_sweeps, shape);
    }
    v
}

/// [`spatial_on`] the emulation against the reference, for each of [`FILL_SHAPES`].
fn spatial_emulated(all_unknown: bool, warm_sweeps: usize) -> Result<(), Failed> {
    let case = spatial_case(all_unknown);
    for share in FILL_SHAPES {
        let shape = Anisotropy::exponent(share);
        check_eq(
            &format!("values (exponent {share})"),
            &bits(&spatial_on(&Emulated, &case, warm_sweeps, shape)?),
            &bits(&spatial_reference(&case, warm_sweeps, shape)),
        )?;
    }
    Ok(())
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// An overlay at an odd position (partly off the frame), a half-transparent rectangle, then a
/// fit to 1920x1080 padded: every composite and fit kernel on one frame.
fn draw_and_fit_on<B: Backend>(b: &B, f: &Frame) -> Result<Vec<Vec<u8>>, Failed> {
    let (iw, ih) = (161, 77);
    let pattern = |k: usize| -> Vec<u8> {
        (0..iw * ih)
            .map(|i| ((i * (31 + 7 * k) + k * 50) % 256) as u8)
            .collect()
    };
    let alpha: Vec<u8> = (0..iw * ih)
        .map(|i| {
            if i % iw < 10 {
                0
            } else {
                ((i * 13) % 256) as u8
            }
        })
        .collect();
    let image = DeviceImage::upload(b, iw, ih, [&pattern(0), &pattern(1), &pattern(2), &alpha])
        .map_err(gpu_err)?;
    let mut frame = DeviceFrame::new(b, f.w, f.h).map_err(gpu_err)?;
    let strides = [f.w, f.w.div_ceil(2), f.w.div_ceil(2)];
    frame
        .upload(b, [&f.planes[0], &f.planes[1], &f.planes[2]], strides)
        .map_err(gpu_err)?;
    blend(b, &mut frame, &image, 301, -13, 0.8).map_err(gpu_err)?;
    blend(
        b,
        &mut frame,
        &image,
        f.w as i32 - 100,
        f.h as i32 - 40,
        1.0,
    )
    .map_err(gpu_err)?;
    fill_rect(b, &mut frame, 17, 33, 200, 101, [81, 90, 240], 128).map_err(gpu_err)?;
    let (ow, oh) = (1920, 1080);
    // A 4:3 crop of the source, pillarboxed: both filters' shrink and stretch paths.
    let placement = FitPlacement {
        src_x: 160,
        src_y: 0,
        src_w: f.w as u32 - 320,
        src_h: f.h as u32,
        dst_x: 240,
        dst_y: 0,
        dst_w: 1440,
        dst_h: 1080,
    };
    let fit = DeviceFit::new(b, placement, ow, oh, [16, 128, 128]).map_err(gpu_err)?;
    let mut out = DeviceFrame::new(b, ow, oh).map_err(gpu_err)?;
    fit.run(b, &frame, &mut out).map_err(gpu_err)?;
    let mut planes = vec![
        vec![0u8; ow * oh],
        vec![0u8; ow * oh / 4],
        vec![0u8; ow * oh / 4],
    ];
    let [p0, p1, p2] = &mut planes[..] else {
        unreachable!()
    };
    out.download(b, [p0, p1, p2], [ow, ow / 2, ow / 2])
        .map_err(gpu_err)?;
    Ok(planes)
}

/// A whole `Inpainter` run (a logo with an opaque core and a soft ring, over a pan across a
/// real frame that comes to rest, so that some holes are filled from other frames, the rest
/// from their surroundings, and the still frames start from the previous fill) with the kernels on `device`, and with the reference
/// kernels: the outputs must be identical, and the device must have run every kernel.
fn inpainter_on(device: Arc<dyn KernelDevice>) -> Result<(), Failed> {
    let src = &frames()[2];
    let (w, h) = (640usize, 360usize);
    let window = |k: usize| {
        let (ox, oy) = (40 + 2 * k.min(5), 20);
        let mut f = Yuv420Frame::new(w, h);
        for p in 0..3 {
            let (s, sw) = if p == 0 { (1, src.w) } else { (2, src.w / 2) };
            let (pw, ph) = (w / s, h / s);
            let data = f.data_mut(p);
            for y in 0..ph {
                let from = (oy / s + y) * sw + ox / s;
                data[y * pw..][..pw].copy_from_slice(&src.planes[p][from..][..pw]);
            }
        }
        f
    };
    let (lw, lh) = (120usize, 60usize);
    let rgba: Vec<u8> = (0..lw * lh)
        .flat_map(|i| {
            let (x, y) = ((i % lw) as f32 - 60.0, ((i / lw) as f32 - 30.0) * 2.0);
            let d = (x * x + y * y).sqrt() / 55.0;
            let a = if d < 0.35 {
                255
            } else if d < 1.0 {
                (160.0 * (1.0 - d)) as u8 + 30
            } else {
                0
            };
            [230, 230, 230, a]
        })
        .collect();
    let logo = LogoModel::from_rgba(&rgba, lw, lh, 400, 250, w, h).map_err(|e| e.to_string())?;
    let mask = logo.mask().map_err(|e| e.to_string())?;
    // The grey mark blended in (BT.709 limited range: Y 213.5, neutral chroma).
    let marked = |k: usize| {
        let mut f = window(k);
        for p in 0..3 {
            let (pw, ph) = if p == 0 { (w, h) } else { (w / 2, h / 2) };
            let colour = if p == 0 {
                16.0 + 219.0 * 230.0 / 255.0
            } else {
                128.0
            };
            let data = f.data_mut(p);
            for y in 0..ph {
                for x in 0..pw {
                    let a = logo.alpha(p, x, y);
                    if a > 0.0 {
                        let v = a * colour + (1.0 - a) * f32::from(data[y * pw + x]);
                        data[y * pw + x] = v.round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
        f
    };
    let run = |kernels: Kernels| -> Result<(Vec<Yuv420Frame>, InpaintStats), Failed> {
        let config = InpaintConfig::default()
            .mark(MarkModel::Given(logo.clone()))
            // Noisy enough to average un-blended pixels with other frames' view of them.
            .coding_noise(2.0)
            .kernels(kernels);
        let mut inpainter = Inpainter::new(config, mask.clone()).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for k in 0..18 {
            out.extend(inpainter.push(marked(k)).map_err(|e| e.to_string())?);
        }
        out.extend(inpainter.finish().map_err(|e| e.to_string())?);
        Ok((out, inpainter.stats()))
    };
    let counting = Arc::new(Counting {
        inner: device,
        calls: Default::default(),
    });
    let (got, stats) = run(Kernels::Device(counting.clone()))?;
    let (want, want_stats) = run(Kernels::Reference)?;
    if let Some(e) = &stats.device_error {
        return Err(format!("the device failed: {e}").into());
    }
    let calls = *counting.calls.lock().unwrap();
    println!("device calls (invert, temporal, spatial, relax, average): {calls:?}; {stats:?}");
    if calls.contains(&0) {
        return Err(format!("a kernel never ran on the device: {calls:?}").into());
    }
    if got.len() != want.len() {
        return Err(format!("{} frames, expected {}", got.len(), want.len()).into());
    }
    for (k, (g, r)) in got.iter().zip(&want).enumerate() {
        for p in 0..3 {
            check_eq(&format!("frame {k} plane {p}"), g.data(p), r.data(p))?;
        }
    }
    check_eq(
        "stats",
        &[format!("{stats:?}")],
        &[format!("{want_stats:?}")],
    )
}

/// A device that counts the calls of each kernel it passes on.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn KernelDevice>,
    calls: std::sync::Mutex<[u32; 5]>,
}

impl Counting {
    fn count(&self, k: usize) {
        self.calls.lock().unwrap()[k] += 1;
    }
}

impl KernelDevice for Counting {
    fn average_sums(
        &self,
        rect: [usize; 4],
        sparse: Option<&[u32]>,
        holes: bool,
        sources: &[TemporalSource<'_>],
        sum: &mut [f32],
        count: &mut [u16],
    ) -> Result<(), String> {
        self.count(4);
        self.inner
            .average_sums(rect, sparse, holes, sources, sum, count)
    }

    fn name(&self) -> String {
        self.inner.name()
    }

    fn invert(
        &self,
        plane: &mut [u8],
        w: usize,
        bounds: [usize; 4],
        kind: &[u8],
        alpha: &[f32],
        premul: &[f32],
    ) -> Result<(), String> {
        self.count(0);
        self.inner.invert(plane, w, bounds, kind, alpha, premul)
    }

    fn temporal_fill(
        &self,
        target: &mut [u8],
        w: usize,
        holes: &[(u32, u32)],
        filled: &mut [bool],
        sources: &[TemporalSource<'_>],
    ) -> Result<(), String> {
        self.count(1);
        self.inner.temporal_fill(target, w, holes, filled, sources)
    }

    fn spatial_fill(
        &self,
        values: &mut [f32],
        unknown: &[u8],
        w: usize,
        h: usize,
        shape: Anisotropy,
    ) -> Result<(), String> {
        self.count(2);
        self.inner.spatial_fill(values, unknown, w, h, shape)
    }

    fn relax(
        &self,
        values: &mut [f32],
        unknown: &[u8],
        w: usize,
        h: usize,
        sweeps: usize,
        shape: Anisotropy,
    ) -> Result<(), String> {
        self.count(3);
        self.inner.relax(values, unknown, w, h, sweeps, shape)
    }
}

/// The averaging's sums over the mark's box of frame 3 from frames 2, 4, 1, 5 (as the temporal
/// case moves them): the whole box shifted, with and without holes, and every seventh pixel
/// read on its own.
fn average_on<B: Backend + Send>(b: B) -> Result<(), Failed> {
    let t = temporal_case();
    let wide = t.wide();
    let sources = t.views(&wide);
    let (x0, y0) = (t.holes[0].0 as usize - 20, t.holes[0].1 as usize);
    let rect = [x0, y0, x0 + 120, y0 + 60];
    let n = 120 * 60;
    let every7: Vec<u32> = (0..n as u32).step_by(7).collect();
    let device = InpaintDevice::new(b, "test");
    for (sparse, holes) in [(None, true), (None, false), (Some(&every7[..]), true)] {
        let (mut sum, mut count) = (vec![0.0f32; n], vec![0u16; n]);
        reference::average_sums(rect, sparse, holes, &sources, &mut sum, &mut count);
        let (mut got_sum, mut got_count) = (vec![0.0f32; n], vec![0u16; n]);
        device.average_sums(rect, sparse, holes, &sources, &mut got_sum, &mut got_count)?;
        let read = count.iter().filter(|&&c| c > 0).count();
        if read < n / 20 {
            return Err(format!("only {read} pixels read: the case is too weak").into());
        }
        check_eq("counts", &got_count, &count)?;
        check_eq("sums", &bits(&got_sum), &bits(&sum))?;
    }
    Ok(())
}

// --- The GPU, or why not. ---

fn gpu() -> Result<Arc<Gpu>, String> {
    static GPU: OnceLock<Result<Arc<Gpu>, String>> = OnceLock::new();
    GPU.get_or_init(|| Gpu::open(None).map_err(|e| e.to_string()))
        .clone()
}

/// Runs `f` on the GPU, or reports why it cannot (a failure when `FRAMEJET_GPU_TESTS=1`).
fn on_gpu(
    f: impl FnOnce(&framejet_gpu::GpuStream) -> Result<(), Failed>,
) -> Result<Completion, Failed> {
    match gpu() {
        Ok(gpu) => {
            let stream = gpu.stream().map_err(gpu_err)?;
            f(&stream)?;
            Ok(Completion::Completed)
        }
        Err(reason) if std::env::var("FRAMEJET_GPU_TESTS").is_ok_and(|v| v == "1") => {
            Err(format!("FRAMEJET_GPU_TESTS=1 but {reason}").into())
        }
        Err(reason) => Ok(Completion::ignored_with(format!("skipped: {reason}"))),
    }
}

fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test("emulated/invert", || {
            let m = marked_luma(&frames()[0]);
            check_eq("plane", &invert_on(&Emulated, &m)?, &invert_reference(&m))
        }),
        Trial::test("emulated/temporal_fill", || {
            let t = temporal_case();
            let (plane, filled) = temporal_on(&Emulated, &t)?;
            let (want_plane, want_filled) = temporal_reference(&t);
            let n = want_filled.iter().filter(|&&f| f).count();
            if n < t.holes.len() / 2 {
                return Err(format!(
                    "only {n} of {} holes filled: the case is too weak",
                    t.holes.len()
                )
                .into());
            }
            check_eq("filled", &filled, &want_filled)?;
            check_eq("plane", &plane, &want_plane)
        }),
        Trial::test("emulated/spatial_fill", || spatial_emulated(false, 0)),
        Trial::test("emulated/spatial_fill_all_unknown_and_warm_start", || {
            spatial_emulated(true, 5)
        }),
        Trial::test("emulated/average_sums", || average_on(Emulated)),
        Trial::ignorable_test("cuda/average_sums", || {
            on_gpu(|_| {
                let gpu = gpu().map_err(Failed::from)?;
                average_on(gpu.stream().map_err(gpu_err)?)
            })
        }),
        Trial::test("emulated/inpainter_equals_the_reference", || {
            inpainter_on(Arc::new(InpaintDevice::new(Emulated, "emulated")))
        }),
        Trial::ignorable_test("cuda/inpainter_equals_the_reference", || {
            on_gpu(|_| {
                let gpu = gpu().map_err(Failed::from)?;
                let stream = gpu.stream().map_err(gpu_err)?;
                inpainter_on(Arc::new(InpaintDevice::new(
                    stream,
                    gpu.info().name.clone(),
                )))
            })
        }),
        Trial::ignorable_test("cuda/invert", || {
            on_gpu(|s| {
                let m = marked_luma(&frames()[0]);
                check_eq("plane", &invert_on(s, &m)?, &invert_reference(&m))
            })
        }),
        Trial::ignorable_test("cuda/temporal_fill", || {
            on_gpu(|s| {
                let t = temporal_case();
                let (plane, filled) = temporal_on(s, &t)?;
                let (want_plane, want_filled) = temporal_reference(&t);
                check_eq("filled", &filled, &want_filled)?;
                check_eq("plane", &plane, &want_plane)
            })
        }),
        Trial::ignorable_test("cuda/spatial_fill", || {
            on_gpu(|s| {
                for (all, warm) in [(false, 0), (true, 5)] {
                    let case = spatial_case(all);
                    for share in FILL_SHAPES {
                        let shape = Anisotropy::exponent(share);
                        check_eq(
                            &format!("values (exponent {share})"),
                            &bits(&spatial_on(s, &case, warm, shape)?),
                            &bits(&spatial_reference(&case, warm, shape)),
                        )?;
                    }
                }
                Ok(())
            })
        }),
        Trial::ignorable_test("cuda/composite_and_fit", || {
            on_gpu(|s| {
                // Integer compositing is exact; `fit`'s float sums may round differently on
                // the GPU only through the order of additions, which both keep: exact too.
                let f = &frames()[1];
                let (got, want) = (draw_and_fit_on(s, f)?, draw_and_fit_on(&Emulated, f)?);
                for (p, (g, w)) in got.iter().zip(&want).enumerate() {
                    check_eq(&format!("plane {p}"), g, w)?;
                }
                Ok(())
            })
        }),
    ];
    libtest_mimic::run(&args, trials).exit();
}
