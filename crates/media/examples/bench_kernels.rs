//! Times the per-frame kernels on 1080p frames: blending a full-frame and a logo-sized overlay,
//! filling a rectangle, fitting 1080p → 720p and 720p → 1080p, and rotating.
//!
//! ```text
//! cargo run --release -p framejet-media --example bench_kernels
//! ```

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use framejet_media::{ColorMatrix, FitMode, Fitter, VideoFrame, YuvaImage, blend, fill_rect};

/// Runs `f` `iters` times and prints the fastest run (robust to a busy machine).
fn time(name: &str, iters: u32, mut f: impl FnMut()) {
    f();
    let mut best = f64::INFINITY;
    for _ in 0..iters {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("{name:<40} {best:8.3} ms/frame (best of {iters})");
}

fn main() -> Result<(), framejet_media::MediaError> {
    let mut frame = VideoFrame::black(1920, 1080)?;
    let overlay = |w: u32, h: u32| -> Result<YuvaImage, framejet_media::MediaError> {
        let rgba: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                [
                    (i % 251) as u8,
                    (i % 241) as u8,
                    (i % 239) as u8,
                    (i % 256) as u8,
                ]
            })
            .collect();
        YuvaImage::from_rgba(w, h, &rgba, ColorMatrix::Bt709)
    };
    let full = overlay(1920, 1080)?;
    let logo = overlay(300, 120)?;
    time("blend 1920x1080 overlay, opacity 0.8", 20, || {
        blend(&mut frame, &full, 0, 0, 0.8)
    });
    time("blend 300x120 logo at odd x/y", 200, || {
        blend(&mut frame, &logo, 1601, 41, 1.0)
    });
    time("fill_rect 1920x200, alpha 128", 50, || {
        fill_rect(&mut frame, 0, 880, 1920, 200, [0, 0, 0, 128])
    });
    let mut down = Fitter::new(1920, 1080, 1280, 720, FitMode::Pad, [0, 0, 0])?;
    time("fit 1920x1080 -> 1280x720", 20, || {
        let _ = down.fit(frame.clone());
    });
    let small = VideoFrame::black(1280, 720)?;
    let mut up = Fitter::new(1280, 720, 1920, 1080, FitMode::Pad, [0, 0, 0])?;
    time("fit 1280x720 -> 1920x1080", 20, || {
        let _ = up.fit(small.clone());
    });
    let portrait = VideoFrame::black(1080, 1920)?;
    let mut pad = Fitter::new(1080, 1920, 1920, 1080, FitMode::Pad, [0, 0, 0])?;
    time("fit 1080x1920 -> 1920x1080 (pad)", 20, || {
        let _ = pad.fit(portrait.clone());
    });
    Ok(())
}
