//! The public surface: every bad mask, logo or frame is refused with its own error before any
//! pixel is touched, and the stream gives back every frame, in order, whatever its length and
//! wherever its frames' pixels live.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Seek, SeekFrom, Write};

use common::*;
use framejet_inpaint::{
    DetectOptions, InpaintConfig, InpaintError, Inpainter, LogoModel, MarkModel, Mask, Rect,
    Yuv420Frame, detect_mask,
};

#[test]
fn bad_masks_say_what_is_wrong() {
    assert!(matches!(
        Mask::from_rect(Rect::new(10, 10, 0, 5), 64, 48),
        Err(InpaintError::EmptyMask)
    ));
    assert!(matches!(
        Mask::from_bits(64, 48, &[0; 64 * 48]),
        Err(InpaintError::EmptyMask)
    ));
    let outside = Mask::from_rect(Rect::new(-20, 5, 20, 5), 64, 48).unwrap_err();
    assert!(matches!(outside, InpaintError::RectOutsideFrame { .. }));
    assert!(outside.to_string().contains("[-20, 5, 20, 5]"), "{outside}");
    // Partly outside: clipped.
    assert_eq!(
        Mask::from_rect(Rect::new(60, 40, 20, 20), 64, 48)
            .unwrap()
            .count(),
        32
    );
    // The whole frame, or more than half of it.
    assert!(matches!(
        Mask::from_rect(Rect::new(0, 0, 64, 48), 64, 48),
        Err(InpaintError::MaskTooLarge { .. })
    ));
    let big = Mask::from_rect(Rect::new(0, 0, 64, 25), 64, 48).unwrap_err();
    assert!(big.to_string().contains("52%"), "{big}");
    assert!(Mask::from_rect(Rect::new(0, 0, 64, 24), 64, 48).is_ok());
    // Growing can push a mask over the limit too.
    assert!(
        Mask::from_rect(Rect::new(0, 0, 64, 20), 64, 48)
            .unwrap()
            .grown(5)
            .is_err()
    );
}

#[test]
fn png_masks_must_match_the_video() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mask.png");
    Mask::from_rect(Rect::new(3, 4, 10, 6), 80, 60)
        .unwrap()
        .to_png(&path)
        .unwrap();
    let err = Mask::from_png(&path, 64, 48).unwrap_err();
    assert!(matches!(
        err,
        InpaintError::MaskSizeMismatch {
            png_width: 80,
            png_height: 60,
            frame_width: 64,
            frame_height: 48
        }
    ));
    let message = err.to_string();
    assert!(
        message.contains("80x60") && message.contains("64x48"),
        "{message}"
    );
    assert!(matches!(
        Mask::from_png_bytes(b"not a png", 64, 48),
        Err(InpaintError::Png { .. })
    ));
    let missing = Mask::from_png(&dir.path().join("missing.png"), 64, 48).unwrap_err();
    assert!(missing.to_string().contains("missing.png"), "{missing}");

    // Alpha decides when it varies; a PNG with alpha 255 everywhere is read by its luma.
    let rgba: Vec<u8> = (0..80 * 60)
        .flat_map(|i| match i % 80 {
            0..8 => [0, 0, 0, 255],
            8..20 => [255, 255, 255, 0],
            _ => [0, 0, 0, 0],
        })
        .collect();
    image::save_buffer(&path, &rgba, 80, 60, image::ExtendedColorType::Rgba8).unwrap();
    assert_eq!(Mask::from_png(&path, 80, 60).unwrap().count(), 8 * 60);
    let opaque: Vec<u8> = rgba
        .chunks(4)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    image::save_buffer(&path, &opaque, 80, 60, image::ExtendedColorType::Rgba8).unwrap();
    assert_eq!(Mask::from_png(&path, 80, 60).unwrap().count(), 12 * 60);
}

#[test]
fn logos_and_frames_of_the_wrong_size_are_refused() {
    let rgba = [255u8, 255, 255, 128].repeat(16 * 8);
    assert!(matches!(
        LogoModel::from_rgba(&rgba, 16, 8, 70, 0, 64, 48),
        Err(InpaintError::LogoOutsideFrame { .. })
    ));
    let logo = LogoModel::from_rgba(&rgba, 16, 8, 4, 4, 64, 48).unwrap();
    let other = Mask::from_rect(Rect::new(0, 0, 8, 8), 80, 60).unwrap();
    let err = Inpainter::new(InpaintConfig::default().mark(MarkModel::Given(logo)), other)
        .err()
        .unwrap();
    assert!(matches!(err, InpaintError::SizeMismatch { .. }), "{err}");

    let mask = Mask::from_rect(Rect::new(0, 0, 8, 8), 64, 48).unwrap();
    let mut inpainter = Inpainter::new(InpaintConfig::default(), mask).unwrap();
    let err = inpainter.push(Yuv420Frame::new(80, 60)).unwrap_err();
    assert!(
        err.to_string().contains("64x48") && err.to_string().contains("80x60"),
        "{err}"
    );
    inpainter.finish().unwrap();
    assert!(matches!(
        inpainter.push(Yuv420Frame::new(64, 48)),
        Err(InpaintError::Finished)
    ));
}

#[test]
fn detection_refuses_what_it_cannot_judge() {
    let still = vec![Yuv420Frame::new(64, 48); 10];
    let frames = || still.iter().map(|f| f.plane(0));
    assert!(matches!(
        detect_mask(frames().take(3), &DetectOptions::default()),
        Err(InpaintError::TooFewFrames { got: 3, need: 8 })
    ));
    assert!(matches!(
        detect_mask(frames(), &DetectOptions::default()),
        Err(InpaintError::StaticVideo { .. })
    ));
    // Frames sampled across a clip with no mark: nothing to find.
    let clean = clip(96, 64, 30, 9.0, 4.0, 0.0);
    let found = detect_mask(clean.iter().map(|f| f.plane(0)), &DetectOptions::default());
    assert!(
        matches!(found, Err(InpaintError::NoMarkFound)),
        "{:?}",
        found.map(|m| m.bbox())
    );
}

#[test]
fn a_mark_without_holes_holds_only_the_frames_it_averages_with() {
    // A known semi-transparent mark: every pixel is un-blended, none filled from other frames,
    // so a frame waits for the frames after it that it is averaged with, not for the memory.
    let clean = clip(64, 48, 60, 2.0, 1.0, 0.0);
    let logo = semi_logo(0.5);
    let marked = overlay(&with_noise(&clean, 4.0), &logo, 4, 8);
    let mask = logo_mask(&logo, 4, 8, 64, 48, 1);
    let model = LogoModel::estimate(&marked, &mask, &InpaintConfig::default()).unwrap();
    let opaque = overlay(&clean, &opaque_logo(), 12, 10);
    let opaque_mask = logo_mask(&opaque_logo(), 12, 10, 64, 48, 1);
    let first_out = |config: InpaintConfig, mask: &Mask, frames: &[Yuv420Frame]| {
        let mut inpainter = Inpainter::new(config, mask.clone()).unwrap();
        frames
            .iter()
            .position(|f| !inpainter.push(f.clone()).unwrap().is_empty())
            .map(|i| i + 1)
    };
    // Past its look-ahead a frame comes out two pushes later (restored while the next is
    // un-blended, then checked).
    let semi = InpaintConfig::default().mark(MarkModel::Estimated(model));
    let opaque_config = InpaintConfig::default().mark(MarkModel::Opaque);
    // Only the semi-transparent mark has pixels to average, and coding noise to measure.
    assert!(
        Inpainter::new(semi.clone(), mask.clone())
            .unwrap()
            .averages()
    );
    assert!(
        !Inpainter::new(opaque_config, opaque_mask.clone())
            .unwrap()
            .averages()
    );
    assert_eq!(first_out(semi.clone(), &mask, &marked), Some(8 + 1 + 2));
    assert_eq!(first_out(semi.average(3), &mask, &marked), Some(3 + 1 + 2));
    // Holes are filled from the frames either side, as far as the memory reaches.
    let holes = InpaintConfig::default().mark(MarkModel::Opaque);
    assert_eq!(first_out(holes, &opaque_mask, &opaque), Some(48 + 2));
}

#[test]
fn every_frame_comes_back_in_order() {
    let clean = clip(64, 48, 30, 2.0, 1.0, 0.0);
    let marked = overlay(&clean, &opaque_logo(), 12, 10);
    let mask = logo_mask(&opaque_logo(), 12, 10, 64, 48, 1);
    for (window, mark) in [
        (0, MarkModel::Opaque),
        (3, MarkModel::Opaque),
        (8, MarkModel::Estimate { frames: 10 }),
        (8, MarkModel::Estimate { frames: 64 }),
    ] {
        for n in [0, 1, 2, 5, 30] {
            let config = InpaintConfig::default().window(window).mark(mark.clone());
            let mut inpainter = Inpainter::new(config, mask.clone()).unwrap();
            let mut out = Vec::new();
            for f in &marked[..n] {
                out.extend(inpainter.push(f.clone()).unwrap());
            }
            out.extend(inpainter.finish().unwrap());
            assert_eq!(out.len(), n, "window {window}, {n} frames");
            // Outside the mask nothing changes, so each frame is where it belongs.
            for (o, c) in out.iter().zip(&clean) {
                for y in 0..48 {
                    for x in 0..64 {
                        if !mask.contains(x, y) {
                            assert_eq!(o.data(0)[y * 64 + x], c.data(0)[y * 64 + x]);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn frames_mapped_from_a_file_are_restored_like_owned_ones_and_the_file_is_left_alone() {
    let clean = clip(64, 48, 20, 2.0, 1.0, 0.0);
    let marked = overlay(&clean, &semi_logo(0.6), 12, 10);
    let mask = logo_mask(&semi_logo(0.6), 12, 10, 64, 48, 1);
    // A yuv4mpeg-like layout: a header, then each frame after a marker, at offsets that are
    // not page-aligned.
    let mut bytes = b"HEADER\n".to_vec();
    let mut offsets = Vec::new();
    for frame in &marked {
        bytes.extend_from_slice(b"FRAME\n");
        offsets.push(bytes.len() as u64);
        bytes.extend_from_slice(&frame.to_i420());
    }
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&bytes).unwrap();

    // SAFETY: the file is this test's own and is not changed while mapped.
    let map = |at: u64| unsafe { Yuv420Frame::map_file(&file, at, 64, 48) };
    let mapped: Vec<Yuv420Frame> = offsets.iter().map(|&at| map(at).unwrap()).collect();
    assert_eq!(mapped, marked);
    let config = InpaintConfig::default().mark(MarkModel::Estimate { frames: 10 });
    let mut inpainter = Inpainter::new(config.clone(), mask.clone()).unwrap();
    let mut out = Vec::new();
    for frame in mapped {
        out.extend(inpainter.push(frame).unwrap());
    }
    out.extend(inpainter.finish().unwrap());
    assert_eq!(out, run(config, &mask, &marked));
    assert_ne!(out, marked, "the mark was removed");

    let mut on_disk = Vec::new();
    (&file).seek(SeekFrom::Start(0)).unwrap();
    (&file).read_to_end(&mut on_disk).unwrap();
    assert!(on_disk == bytes, "writes to mapped frames stay in memory");
    // A frame that the file cuts short is refused, not mapped.
    let last = *offsets.last().unwrap();
    let cut = map(last + 1).unwrap_err();
    assert_eq!(cut.kind(), std::io::ErrorKind::UnexpectedEof, "{cut}");
}

/// The pixels of `frames` inside `rect` (each plane's part of it, as `from_planes_within` keeps).
fn within(frames: &[Yuv420Frame], rect: Rect) -> Vec<Yuv420Frame> {
    frames
        .iter()
        .map(|f| {
            let [y, u, v] = [0, 1, 2].map(|p| {
                let (w, h) = f.plane_size(p);
                framejet_inpaint::Plane::new(f.data(p), w, h, w).unwrap()
            });
            Yuv420Frame::from_planes_within(y, u, v, rect).unwrap()
        })
        .collect()
}

#[test]
fn frames_holding_only_the_reach_are_estimated_restored_and_measured_as_whole_ones() {
    let (w, h, n) = (480, 320, 40);
    // A pan with camera noise, under a semi-transparent logo (un-blended, averaged with
    // other frames as a lossy input's would be) and an opaque one (filled from other frames).
    let clean = with_noise(&clip(w, h, n, 3.0, 1.0, 0.0), 3.0);
    let marked = overlay(
        &overlay(&clean, &semi_logo(0.6), 150, 140),
        &opaque_logo(),
        250,
        150,
    );
    let mask = Mask::from_bits(w, h, &{
        let semi = logo_mask(&semi_logo(0.6), 150, 140, w, h, 2);
        let opaque = logo_mask(&opaque_logo(), 250, 150, w, h, 2);
        let mut bits = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                bits[y * w + x] = u8::from(semi.contains(x, y) || opaque.contains(x, y));
            }
        }
        bits
    })
    .unwrap();
    let config = InpaintConfig::default();
    let reach = config.reach(&mask);
    // The reach is the mask's bounds grown, and the frame is larger still.
    let b = mask.bbox();
    assert!(reach.x < b.x && reach.x + reach.width as i64 > b.x + b.width as i64);
    assert!(reach.width < w as u64 && reach.height <= h as u64);
    let windowed = within(&marked, reach);
    let outside = (reach.x as usize + reach.width as usize + 1, 5);
    assert_ne!(marked[0].data(0)[outside.1 * w + outside.0], 0);
    assert_eq!(windowed[0].data(0)[outside.1 * w + outside.0], 0);

    let whole_model = LogoModel::estimate(&marked, &mask, &config).unwrap();
    let windowed_model = LogoModel::estimate(&windowed, &mask, &config).unwrap();
    for p in 0..3 {
        let (pw, ph) = if p == 0 { (w, h) } else { (w / 2, h / 2) };
        for y in 0..ph {
            for x in 0..pw {
                assert_eq!(
                    whole_model.alpha(p, x, y).to_bits(),
                    windowed_model.alpha(p, x, y).to_bits(),
                    "alpha of plane {p} at ({x}, {y})"
                );
            }
        }
    }

    let estimated = InpaintConfig::default().mark(MarkModel::Estimated(whole_model));
    let measuring = estimated.clone().measure_coding_noise();
    let (_, whole) = run_to_end(measuring.clone(), &mask, &marked);
    let (_, windowed_run) = run_to_end(measuring, &mask, &windowed);
    assert_eq!(
        whole.coding_noise().map(f64::to_bits),
        windowed_run.coding_noise().map(f64::to_bits)
    );
    assert!(whole.coding_noise().is_some());
    // Restored as a lossy input's frames are: un-blended pixels averaged with other frames'.
    let restoring = estimated.coding_noise(100.0);
    let (whole_out, whole) = run_to_end(restoring.clone(), &mask, &marked);
    let (windowed_out, windowed_run) = run_to_end(restoring, &mask, &windowed);
    let stats = whole.stats();
    assert!(stats.from_other_frames > 0 && stats.unblended > 0 && stats.averaged > 0);
    assert_eq!(stats, windowed_run.stats());
    for (a, b) in within(&whole_out, reach).iter().zip(&windowed_out) {
        for p in 0..3 {
            assert!(
                a.data(p) == b.data(p),
                "plane {p} of a restored frame differs"
            );
        }
    }
}
