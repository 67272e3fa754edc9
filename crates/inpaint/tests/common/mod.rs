//! Test clips made in Rust: a textured background that moves (or not), marks blended onto it
//! the way FFmpeg's `overlay` blends yuv420p, and the metrics the tests judge results by.

#![allow(dead_code)]

use framejet_inpaint::{InpaintConfig, Inpainter, Mask, Yuv420Frame, chroma_size};

/// Deterministic hash of a lattice point to [0, 1).
fn hash(ix: i64, iy: i64, seed: u64) -> f32 {
    let mut h = (ix as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (iy as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ seed;
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    (h >> 40) as f32 / (1u64 << 24) as f32
}

/// Smooth value noise with a lattice of `scale` pixels.
fn value_noise(x: f32, y: f32, scale: f32, seed: u64) -> f32 {
    let (gx, gy) = (x / scale, y / scale);
    let (ix, iy) = (gx.floor() as i64, gy.floor() as i64);
    let (fx, fy) = (gx - gx.floor(), gy - gy.floor());
    let s = |t: f32| t * t * (3.0 - 2.0 * t);
    let (sx, sy) = (s(fx), s(fy));
    let a = hash(ix, iy, seed) + sx * (hash(ix + 1, iy, seed) - hash(ix, iy, seed));
    let b = hash(ix, iy + 1, seed) + sx * (hash(ix + 1, iy + 1, seed) - hash(ix, iy + 1, seed));
    a + sy * (b - a)
}

/// The background at continuous position (`x`, `y`): multi-scale noise, waves and a few hard
/// edges, per plane (0 = Y, 1 = U, 2 = V).
fn texture(plane: usize, x: f32, y: f32) -> f32 {
    let seed = plane as u64 * 1000 + 7;
    if plane == 0 {
        let noise = 0.5 * value_noise(x, y, 24.0, seed)
            + 0.3 * value_noise(x, y, 8.0, seed + 1)
            + 0.2 * value_noise(x, y, 3.0, seed + 2);
        let waves = 0.5 + 0.25 * (x * 0.09 + y * 0.05).sin() + 0.25 * (x * 0.021 - y * 0.13).cos();
        let stripes = if ((x + 0.5 * y) * 0.035).sin() > 0.6 {
            0.25
        } else {
            0.0
        };
        16.0 + 219.0 * (0.55 * noise + 0.35 * waves + stripes).clamp(0.0, 1.0)
    } else {
        // Chroma is smoother than luma, as in camera video.
        let noise = 0.6 * value_noise(x, y, 24.0, seed) + 0.4 * value_noise(x, y, 8.0, seed + 1);
        128.0 + 70.0 * (noise - 0.5) + 20.0 * ((x + 3.0 * y) * 0.04 + plane as f32).sin()
    }
}

/// A `w`x`h` clip of `n` frames: frame `t` shows the texture from `t * (vx, vy)` on (the
/// camera pans by (`vx`, `vy`) pixels per frame), plus uniform noise of ±`noise` levels that
/// changes every frame.
pub fn clip(w: usize, h: usize, n: usize, vx: f32, vy: f32, noise: f32) -> Vec<Yuv420Frame> {
    let (cw, ch) = chroma_size(w, h);
    (0..n)
        .map(|t| {
            let (ox, oy) = (t as f32 * vx, t as f32 * vy);
            let mut f = Yuv420Frame::new(w, h);
            for p in 0..3 {
                let (pw, ph) = if p == 0 { (w, h) } else { (cw, ch) };
                let scale = if p == 0 { 1.0 } else { 2.0 };
                let data = f.data_mut(p);
                for y in 0..ph {
                    for x in 0..pw {
                        // Sample at the pixel's centre in luma coordinates.
                        let (lx, ly) = (
                            (x as f32 + 0.5) * scale - 0.5,
                            (y as f32 + 0.5) * scale - 0.5,
                        );
                        let jitter = if noise > 0.0 {
                            noise * (2.0 * hash((y * pw + x) as i64, t as i64, p as u64 + 99) - 1.0)
                        } else {
                            0.0
                        };
                        data[y * pw + x] = (texture(p, lx + ox, ly + oy) + jitter)
                            .round()
                            .clamp(0.0, 255.0) as u8;
                    }
                }
            }
            f
        })
        .collect()
}

/// `frames` with uniform noise of ±`amplitude` levels on every pixel, new in every frame: what
/// a lossy codec adds, as far as un-blending is concerned.
pub fn with_noise(frames: &[Yuv420Frame], amplitude: f32) -> Vec<Yuv420Frame> {
    frames
        .iter()
        .enumerate()
        .map(|(t, f)| {
            let mut f = f.clone();
            for p in 0..3 {
                for (i, v) in f.data_mut(p).iter_mut().enumerate() {
                    let jitter = amplitude * (2.0 * hash(i as i64, t as i64, p as u64 + 555) - 1.0);
                    *v = (f32::from(*v) + jitter).round().clamp(0.0, 255.0) as u8;
                }
            }
            f
        })
        .collect()
}

/// An RGBA logo image.
pub struct Logo {
    pub w: usize,
    pub h: usize,
    pub rgba: Vec<u8>,
}

/// A semi-transparent mark: a white disc with a ring cut out and three "letters" in orange,
/// soft edges, opacity `alpha` at full strength.
pub fn semi_logo(alpha: f32) -> Logo {
    let (w, h) = (56, 30);
    let mut rgba = vec![0u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let d = ((fx - 15.0).powi(2) + (fy - 15.0).powi(2)).sqrt();
            // A soft-edged disc with a ring cut out of it.
            let disc = (13.0 - d).clamp(0.0, 1.0) * (d - 6.0).abs().clamp(0.0, 1.0);
            let letter = ((32..36).contains(&x) && (6..24).contains(&y))
                || ((40..50).contains(&x) && (6..10).contains(&y))
                || ((43..47).contains(&x) && (10..24).contains(&y));
            let p = &mut rgba[(y * w + x) * 4..][..4];
            if letter {
                p.copy_from_slice(&[255, 140, 20, (alpha * 255.0).round() as u8]);
            } else if disc > 0.0 {
                p.copy_from_slice(&[255, 255, 255, (alpha * disc * 255.0).round() as u8]);
            }
        }
    }
    Logo { w, h, rgba }
}

/// An opaque mark: a dark blue block with a lighter bar, hard edges.
pub fn opaque_logo() -> Logo {
    let (w, h) = (40, 24);
    let mut rgba = vec![0u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            let c = if (8..16).contains(&y) && (6..34).contains(&x) {
                [230, 230, 60]
            } else {
                [20, 40, 150]
            };
            rgba[(y * w + x) * 4..][..4].copy_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }
    Logo { w, h, rgba }
}

fn bt709(r: u8, g: u8, b: u8) -> [f32; 3] {
    let (r, g, b) = (r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0);
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    [
        16.0 + 219.0 * y,
        128.0 + 224.0 * (b - y) / 1.8556,
        128.0 + 224.0 * (r - y) / 1.5748,
    ]
}

/// Blends `logo` at (`x0`, `y0`) (even) onto every frame, as FFmpeg's `overlay` does on yuv420p
/// (chroma alpha and colour: means over the 2x2 logo pixels).
pub fn overlay(frames: &[Yuv420Frame], logo: &Logo, x0: usize, y0: usize) -> Vec<Yuv420Frame> {
    frames
        .iter()
        .map(|f| {
            let mut out = f.clone();
            let (w, _) = out.plane_size(0);
            let (cw, _) = out.plane_size(1);
            for ly in 0..logo.h {
                for lx in 0..logo.w {
                    let p = &logo.rgba[(ly * logo.w + lx) * 4..][..4];
                    let a = p[3] as f32 / 255.0;
                    let i = (y0 + ly) * w + x0 + lx;
                    let v = a * bt709(p[0], p[1], p[2])[0] + (1.0 - a) * out.data(0)[i] as f32;
                    out.data_mut(0)[i] = v.round() as u8;
                }
            }
            for cy in 0..logo.h / 2 {
                for cx in 0..logo.w / 2 {
                    let (mut a, mut col) = (0.0, [0.0f32; 2]);
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let p = &logo.rgba[((2 * cy + dy) * logo.w + 2 * cx + dx) * 4..][..4];
                        let yuv = bt709(p[0], p[1], p[2]);
                        a += p[3] as f32 / 255.0 / 4.0;
                        col[0] += yuv[1] / 4.0;
                        col[1] += yuv[2] / 4.0;
                    }
                    let i = (y0 / 2 + cy) * cw + x0 / 2 + cx;
                    for (c, colour) in col.iter().enumerate() {
                        let v = a * colour + (1.0 - a) * out.data(c + 1)[i] as f32;
                        out.data_mut(c + 1)[i] = v.round() as u8;
                    }
                }
            }
            out
        })
        .collect()
}

/// The luma pixels the logo touches at (`x0`, `y0`) on a `w`x`h` frame, grown by `grow`.
pub fn logo_mask(logo: &Logo, x0: usize, y0: usize, w: usize, h: usize, grow: usize) -> Mask {
    let mut bits = vec![0u8; w * h];
    for ly in 0..logo.h {
        for lx in 0..logo.w {
            if logo.rgba[(ly * logo.w + lx) * 4 + 3] > 0 {
                bits[(y0 + ly) * w + x0 + lx] = 1;
            }
        }
    }
    Mask::from_bits(w, h, &bits).unwrap().grown(grow).unwrap()
}

/// Runs a clip through an inpainter, checking that every frame comes out, in order.
pub fn run(config: InpaintConfig, mask: &Mask, frames: &[Yuv420Frame]) -> Vec<Yuv420Frame> {
    run_to_end(config, mask, frames).0
}

/// [`run`], with the finished inpainter (its stats, what it measured).
pub fn run_to_end(
    config: InpaintConfig,
    mask: &Mask,
    frames: &[Yuv420Frame],
) -> (Vec<Yuv420Frame>, Inpainter) {
    let mut inpainter = Inpainter::new(config, mask.clone()).unwrap();
    let mut out = Vec::new();
    for f in frames {
        out.extend(inpainter.push(f.clone()).unwrap());
    }
    out.extend(inpainter.finish().unwrap());
    assert_eq!(out.len(), frames.len());
    (out, inpainter)
}

/// PSNR (dB) over the masked pixels of all three planes, all frames.
pub fn psnr_in_mask(out: &[Yuv420Frame], clean: &[Yuv420Frame], mask: &Mask) -> f64 {
    let (mut se, mut n) = (0.0f64, 0usize);
    for (o, c) in out.iter().zip(clean) {
        for p in 0..3 {
            let (pw, ph) = o.plane_size(p);
            for y in 0..ph {
                for x in 0..pw {
                    let inside = if p == 0 {
                        mask.contains(x, y)
                    } else {
                        mask.contains_chroma(x, y)
                    };
                    if inside {
                        let d = o.data(p)[y * pw + x] as f64 - c.data(p)[y * pw + x] as f64;
                        se += d * d;
                        n += 1;
                    }
                }
            }
        }
    }
    10.0 * (255.0f64 * 255.0 / (se / n as f64).max(1e-10)).log10()
}

/// A flat fill: each plane's masked pixels set to the mean of the pixels bordering the mask.
pub fn flat_fill(frames: &[Yuv420Frame], mask: &Mask) -> Vec<Yuv420Frame> {
    let border = mask.grown(2).unwrap();
    frames
        .iter()
        .map(|f| {
            let mut out = f.clone();
            for p in 0..3 {
                let (pw, ph) = f.plane_size(p);
                let inside = |m: &Mask, x, y| {
                    if p == 0 {
                        m.contains(x, y)
                    } else {
                        m.contains_chroma(x, y)
                    }
                };
                let (mut sum, mut n) = (0.0, 0.0);
                for y in 0..ph {
                    for x in 0..pw {
                        if inside(&border, x, y) && !inside(mask, x, y) {
                            sum += f.data(p)[y * pw + x] as f64;
                            n += 1.0;
                        }
                    }
                }
                let mean = (sum / n).round() as u8;
                for y in 0..ph {
                    for x in 0..pw {
                        if inside(mask, x, y) {
                            out.data_mut(p)[y * pw + x] = mean;
                        }
                    }
                }
            }
            out
        })
        .collect()
}

/// Mean absolute frame-to-frame change of luma inside the mask.
pub fn temporal_change(frames: &[Yuv420Frame], mask: &Mask) -> f64 {
    let (w, h) = frames[0].plane_size(0);
    let (mut sum, mut n) = (0.0, 0usize);
    for pair in frames.windows(2) {
        for y in 0..h {
            for x in 0..w {
                if mask.contains(x, y) {
                    sum += (pair[1].data(0)[y * w + x] as f64 - pair[0].data(0)[y * w + x] as f64)
                        .abs();
                    n += 1;
                }
            }
        }
    }
    sum / n as f64
}
