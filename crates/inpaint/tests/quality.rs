//! Quality floors on synthetic clips: PSNR inside the mask against the clean clip for each kind
//! of mark, with floors that a no-op and a flat fill both miss; steadiness over time; automatic
//! detection; and the optimised kernels against the scalar reference.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use framejet_inpaint::{
    Anisotropy, DetectOptions, InpaintConfig, Kernels, LogoModel, MarkModel, Mask, PlaceFinder,
    Rect, Yuv420Frame, choose_fill_shape, detect_mask,
};

const W: usize = 192;
const H: usize = 128;
const FRAMES: usize = 40;
/// Where the marks sit (even, as FFmpeg's overlay needs for yuv420p).
const SEMI_AT: (usize, usize) = (120, 84);
const OPAQUE_AT: (usize, usize) = (16, 12);

/// The model of `logo` (a semi-transparent mark) where the tests put it.
fn semi_model(logo: &Logo) -> LogoModel {
    LogoModel::from_rgba(
        &logo.rgba,
        logo.w,
        logo.h,
        SEMI_AT.0 as i64,
        SEMI_AT.1 as i64,
        W,
        H,
    )
    .unwrap()
}

/// `n` frames panning 1 px a frame under the opaque mark: the clean clip, the marked one and
/// the mask.
fn slow_pan_under_the_badge(
    n: usize,
) -> (Vec<Yuv420Frame>, Vec<Yuv420Frame>, framejet_inpaint::Mask) {
    let clean = clip(W, H, n, 1.0, 0.0, 0.0);
    let logo = opaque_logo();
    let marked = overlay(&clean, &logo, OPAQUE_AT.0, OPAQUE_AT.1);
    let mask = logo_mask(&logo, OPAQUE_AT.0, OPAQUE_AT.1, W, H, 1);
    (clean, marked, mask)
}

/// Checks `out` against `floor` and checks that doing nothing and a flat fill both miss it.
fn assert_floor(
    name: &str,
    out: &[Yuv420Frame],
    marked: &[Yuv420Frame],
    clean: &[Yuv420Frame],
    mask: &framejet_inpaint::Mask,
    floor: f64,
) {
    let ours = psnr_in_mask(out, clean, mask);
    let noop = psnr_in_mask(marked, clean, mask);
    let flat = psnr_in_mask(&flat_fill(marked, mask), clean, mask);
    eprintln!(
        "{name}: inpaint {ours:.2} dB, no-op {noop:.2} dB, flat fill {flat:.2} dB (floor {floor} dB)"
    );
    assert!(
        ours >= floor,
        "{name}: {ours:.2} dB is below the {floor} dB floor"
    );
    assert!(
        noop < floor && flat < floor,
        "{name}: the floor {floor} dB does not tell a no-op ({noop:.2}) or a flat fill ({flat:.2}) apart"
    );
}

#[test]
fn semi_transparent_mark_estimated_from_the_video() {
    let clean = clip(W, H, FRAMES, 3.0, 1.0, 0.0);
    let logo = semi_logo(0.5);
    let marked = overlay(&clean, &logo, SEMI_AT.0, SEMI_AT.1);
    let mask = logo_mask(&logo, SEMI_AT.0, SEMI_AT.1, W, H, 1);
    let out = run(
        InpaintConfig::default().mark(MarkModel::Estimate { frames: FRAMES }),
        &mask,
        &marked,
    );
    assert_floor(
        "semi-transparent, estimated",
        &out,
        &marked,
        &clean,
        &mask,
        45.0,
    );
}

#[test]
fn semi_transparent_mark_from_its_image() {
    let clean = clip(W, H, FRAMES, 3.0, 1.0, 0.0);
    let logo = semi_logo(0.5);
    let marked = overlay(&clean, &logo, SEMI_AT.0, SEMI_AT.1);
    let model = semi_model(&logo);
    let mask = model.mask().unwrap();
    let out = run(
        InpaintConfig::default().mark(MarkModel::Given(model)),
        &mask,
        &marked,
    );
    assert_floor(
        "semi-transparent, given",
        &out,
        &marked,
        &clean,
        &mask,
        45.0,
    );
}

#[test]
fn a_lossy_inputs_noise_is_averaged_away_and_a_lossless_one_kept_exact() {
    let clean = clip(W, H, FRAMES, 1.3, 0.4, 0.0);
    let logo = semi_logo(0.6);
    let marked = overlay(&clean, &logo, SEMI_AT.0, SEMI_AT.1);
    let model = semi_model(&logo);
    let mask = model.mask().unwrap();
    let config = |frames| {
        InpaintConfig::default()
            .mark(MarkModel::Given(model.clone()))
            .average(frames)
    };

    // Un-blending multiplies the noise inside the mark by 1 / (1 - alpha), up to 2.5 here.
    let noisy = with_noise(&marked, 6.0);
    let single = psnr_in_mask(&run(config(0), &mask, &noisy), &clean, &mask);
    let averaged = psnr_in_mask(&run(config(8), &mask, &noisy), &clean, &mask);
    eprintln!("noisy input: {single:.2} dB un-blended alone, {averaged:.2} dB averaged");
    assert!(
        averaged >= single + 3.0,
        "averaging gave {averaged:.2} dB against {single:.2} dB"
    );

    // Without noise, un-blending is exact up to rounding: averaging stops after the frames that
    // probe it (which take off the amplified rounding alone), and the output is that of
    // un-blending alone.
    let exact = run(config(0), &mask, &marked);
    let probed = run(config(8), &mask, &marked);
    let (a, b) = (
        psnr_in_mask(&exact, &clean, &mask),
        psnr_in_mask(&probed, &clean, &mask),
    );
    eprintln!("lossless input: {a:.2} dB un-blended alone, {b:.2} dB with averaging on probation");
    assert!(
        b >= a - 0.05,
        "averaging cost {:.2} dB on a lossless input",
        a - b
    );
    let differing = exact.iter().zip(&probed).filter(|(x, y)| x != y).count();
    assert!(
        differing <= 4,
        "{differing} frames differ from un-blending alone: averaging did not stop"
    );

    // Measured over the clip beforehand (as a plan does), the noise decides from the first
    // frame on: the noisy clip is averaged throughout, the exact one not at all.
    let measure = |frames: &[Yuv420Frame]| {
        let (_, inpainter) = run_to_end(config(8).measure_coding_noise(), &mask, frames);
        inpainter.coding_noise().unwrap()
    };
    let (noisy_gain, exact_gain) = (measure(&noisy), measure(&marked));
    eprintln!("coding noise measured: {noisy_gain:.2} (noisy), {exact_gain:.3} (exact)");
    assert!(noisy_gain > 10.0 * exact_gain.max(0.01));
    let known = run(config(8).coding_noise(exact_gain), &mask, &marked);
    assert!(
        known == exact,
        "a lossless clip measured as such was averaged"
    );
    let known = run(config(8).coding_noise(noisy_gain), &mask, &noisy);
    let known_db = psnr_in_mask(&known, &clean, &mask);
    assert!(
        known_db >= averaged - 0.1,
        "measured beforehand: {known_db:.2} dB, probed: {averaged:.2} dB"
    );
}

#[test]
fn a_scene_cut_is_found_and_nothing_is_restored_across_it() {
    // A pan, then another picture (darker, other colours, moving the other way).
    let first = clip(W, H, FRAMES / 2, 3.0, 1.0, 0.0);
    let mut second = clip(W, H, FRAMES / 2, -2.0, 1.0, 0.0);
    for f in &mut second {
        for v in f.data_mut(0) {
            *v = *v / 3 + 20;
        }
        for p in 1..3 {
            for v in f.data_mut(p) {
                *v = 255 - *v;
            }
        }
    }
    let clean: Vec<Yuv420Frame> = first.into_iter().chain(second).collect();
    let logo = opaque_logo();
    let marked = overlay(&clean, &logo, OPAQUE_AT.0, OPAQUE_AT.1);
    let mask = logo_mask(&logo, OPAQUE_AT.0, OPAQUE_AT.1, W, H, 1);
    let opaque = || InpaintConfig::default().mark(MarkModel::Opaque);
    let (out, inpainter) = run_to_end(opaque(), &mask, &marked);
    assert_eq!(inpainter.stats().scene_cuts, 1);
    // Each scene is restored from its own frames: as well as each scene on its own.
    let cut = psnr_in_mask(&out, &clean, &mask);
    let half = FRAMES / 2;
    let apart: Vec<Yuv420Frame> = run(opaque(), &mask, &marked[..half])
        .into_iter()
        .chain(run(opaque(), &mask, &marked[half..]))
        .collect();
    let alone = psnr_in_mask(&apart, &clean, &mask);
    eprintln!("opaque mark across a scene cut: {cut:.2} dB (each scene on its own {alone:.2} dB)");
    assert!(
        cut >= alone - 0.5 && cut >= 30.0,
        "{cut:.2} dB across the cut, {alone:.2} dB with each scene on its own"
    );
    // A pan alone has none.
    let plain = clip(W, H, FRAMES, 3.0, 1.0, 0.0);
    let plain_marked = overlay(&plain, &logo, OPAQUE_AT.0, OPAQUE_AT.1);
    let (_, inpainter) = run_to_end(opaque(), &mask, &plain_marked);
    assert_eq!(inpainter.stats().scene_cuts, 0);
}

#[test]
fn opaque_mark_on_a_moving_background() {
    let clean = clip(W, H, FRAMES, 3.0, 1.0, 0.0);
    let logo = opaque_logo();
    let marked = overlay(&clean, &logo, OPAQUE_AT.0, OPAQUE_AT.1);
    let mask = logo_mask(&logo, OPAQUE_AT.0, OPAQUE_AT.1, W, H, 1);
    let out = run(
        InpaintConfig::default().mark(MarkModel::Opaque),
        &mask,
        &marked,
    );
    assert_floor("opaque, moving", &out, &marked, &clean, &mask, 38.0);
    // Learning the mark from the video finds it opaque and gets the same quality.
    let out = run(InpaintConfig::default(), &mask, &marked);
    assert_floor(
        "opaque, moving, estimated",
        &out,
        &marked,
        &clean,
        &mask,
        38.0,
    );
}

#[test]
fn the_first_frames_see_as_far_ahead_as_later_ones_see_behind() {
    // A slow pan (1 px a frame) under the 40-pixel opaque mark: the first frames have nothing
    // behind them, and the 16 frames of look-ahead uncover only 16 pixels of it. They wait for
    // as many frames as the memory holds, so their background comes from other frames too.
    let (clean, marked, mask) = slow_pan_under_the_badge(64);
    let first = |config: InpaintConfig| {
        let (out, inpainter) = run_to_end(config.mark(MarkModel::Opaque), &mask, &marked);
        let psnr = psnr_in_mask(&out[..8], &clean[..8], &mask);
        (psnr, inpainter.stats().spatial)
    };
    let (ours, spatial) = first(InpaintConfig::default());
    let (short, short_spatial) = first(InpaintConfig::default().memory(16));
    eprintln!(
        "first 8 frames: {ours:.2} dB ({spatial} pixels filled spatially); \
         with the memory as short as the look-ahead {short:.2} dB ({short_spatial})"
    );
    assert!(ours >= 38.0, "{ours:.2} dB");
    assert!(
        short < 38.0,
        "the floor does not tell the short start apart: {short:.2} dB"
    );
}

#[test]
fn what_no_pair_saw_through_is_estimated_opaque() {
    // A plan samples short runs of frames across a video. Under a slow pan (1 px a frame) runs
    // of eight frames, further apart than the largest motion searched (no pair spans two of
    // them), never show the background behind the middle of the 40-pixel opaque badge: that
    // middle must come out opaque (filled from other frames), not semi-transparent (un-blended
    // into noise).
    let (_, marked, mask) = slow_pan_under_the_badge(120);
    let logo = opaque_logo();
    let runs: Vec<Yuv420Frame> = [0..8, 50..58, 100..108]
        .into_iter()
        .flat_map(|run| marked[run].to_vec())
        .collect();
    let model = LogoModel::estimate(&runs, &mask, &InpaintConfig::default()).unwrap();
    let inside: Vec<f32> = (OPAQUE_AT.1..OPAQUE_AT.1 + logo.h)
        .flat_map(|y| (OPAQUE_AT.0..OPAQUE_AT.0 + logo.w).map(move |x| (x, y)))
        .map(|(x, y)| model.alpha(0, x, y))
        .collect();
    let below = inside.iter().filter(|&&a| a < 0.9).count();
    eprintln!(
        "{below} of the badge's {} pixels estimated below 0.9",
        inside.len()
    );
    assert!(below * 20 < inside.len(), "{below} of {}", inside.len());
}

#[test]
fn opaque_mark_on_a_still_background_is_filled_steadily() {
    // A fixed camera with sensor noise: nothing reveals the background, the fill is spatial.
    let clean = clip(W, H, FRAMES, 0.0, 0.0, 2.0);
    let logo = opaque_logo();
    let marked = overlay(&clean, &logo, OPAQUE_AT.0, OPAQUE_AT.1);
    let mask = logo_mask(&logo, OPAQUE_AT.0, OPAQUE_AT.1, W, H, 1);
    let out = run(
        InpaintConfig::default().mark(MarkModel::Opaque),
        &mask,
        &marked,
    );
    assert_floor("opaque, still", &out, &marked, &clean, &mask, 24.0);
    let (ours, truth) = (temporal_change(&out, &mask), temporal_change(&clean, &mask));
    eprintln!(
        "still background: frame-to-frame change inside the mask {ours:.3} (clean {truth:.3})"
    );
    assert!(
        ours <= truth + 0.05,
        "the fill flickers: {ours:.3} > {truth:.3}"
    );
}

#[test]
fn a_still_cards_bars_carry_through_a_wide_opaque_box() {
    // Vertical bars 23 pixels wide with a fixed grain, a still camera, an opaque box much wider
    // than tall across them: nothing reveals what the box hides, and a harmonic fill blurs
    // the bars' edges sideways. Copies of the mask beside it tell the fill to lead across
    // the box's short side.
    let (x0, y0, bw, bh) = (40, 52, 110, 20);
    let bars = |x: usize, y: usize| {
        let bar = if (x / 23).is_multiple_of(2) {
            60.0
        } else {
            190.0
        };
        bar + ((x * 7 + y * 13) % 5) as f32
    };
    let clean: Vec<Yuv420Frame> = (0..12)
        .map(|_| {
            let mut f = Yuv420Frame::new(W, H);
            for y in 0..H {
                for (x, v) in f.plane_mut(0).row_mut(y).iter_mut().enumerate() {
                    *v = bars(x, y) as u8;
                }
            }
            for p in 1..3 {
                f.data_mut(p).fill(128);
            }
            f
        })
        .collect();
    let mask = Mask::from_rect(Rect::new(x0 as i64, y0 as i64, bw, bh), W, H).unwrap();
    let marked: Vec<Yuv420Frame> = clean
        .iter()
        .map(|f| {
            let mut f = f.clone();
            for y in y0..y0 + bh as usize {
                f.plane_mut(0).row_mut(y)[x0..x0 + bw as usize].fill(235);
            }
            f
        })
        .collect();
    let shape = choose_fill_shape(&clean[..1], &mask);
    assert!(!shape.is_isotropic(), "{shape:?}");
    let fill = |shape| {
        let config = InpaintConfig::default()
            .mark(MarkModel::Opaque)
            .fill_shape(shape);
        psnr_in_mask(&run(config, &mask, &marked), &clean, &mask)
    };
    let (harmonic, led) = (fill(Anisotropy::ISOTROPIC), fill(shape));
    eprintln!("bars under a wide box: harmonic fill {harmonic:.2} dB, {shape:?} {led:.2} dB");
    assert!(
        led > harmonic + 3.0,
        "led {led:.2} dB, harmonic {harmonic:.2} dB"
    );
}

#[test]
fn detection_finds_opaque_and_semi_transparent_marks() {
    let clean = clip(W, H, FRAMES, 3.0, 1.0, 0.0);
    for (name, logo, at) in [
        ("opaque", opaque_logo(), OPAQUE_AT),
        ("semi-transparent", semi_logo(0.5), SEMI_AT),
    ] {
        let marked = overlay(&clean, &logo, at.0, at.1);
        let truth = logo_mask(&logo, at.0, at.1, W, H, 0);
        // The mark itself, without the safety margin...
        let options = DetectOptions {
            grow: 0,
            ..DetectOptions::default()
        };
        let found = detect_mask(marked.iter().map(|f| f.plane(0)), &options).unwrap();
        let iou = found.iou(&truth);
        eprintln!(
            "{name}: detected {} pixels, true {}, IoU {iou:.3}",
            found.count(),
            truth.count()
        );
        assert!(iou >= 0.8, "{name}: IoU {iou:.3}");
        // ...and with it (the default), the whole mark is covered.
        let grown =
            detect_mask(marked.iter().map(|f| f.plane(0)), &DetectOptions::default()).unwrap();
        let covered = (0..W * H)
            .filter(|&i| truth.contains(i % W, i / W) && grown.contains(i % W, i / W))
            .count();
        assert_eq!(
            covered,
            truth.count(),
            "{name}: the grown mask misses part of the mark"
        );
    }
}

#[test]
fn optimised_kernels_match_the_reference() {
    // Semi-transparent and opaque parts, a moving and then a still camera (whose holes the
    // moving frames reveal), and a camera still throughout (whose holes nothing reveals, each
    // frame's fill moving from the last one's as the noise changes): every kernel runs.
    let mut pan_then_still = clip(W, H, 24, 3.0, 1.0, 0.0);
    pan_then_still.extend(std::iter::repeat_n(pan_then_still[23].clone(), 8));
    let still = clip(W, H, 12, 0.0, 0.0, 3.0);
    let mut marked = Vec::new();
    for clean in [pan_then_still, still] {
        let semi = overlay(&clean, &semi_logo(0.6), SEMI_AT.0, SEMI_AT.1);
        marked.push(overlay(&semi, &opaque_logo(), OPAQUE_AT.0, OPAQUE_AT.1));
    }
    let semi = logo_mask(&semi_logo(0.6), SEMI_AT.0, SEMI_AT.1, W, H, 1);
    let opaque = logo_mask(&opaque_logo(), OPAQUE_AT.0, OPAQUE_AT.1, W, H, 1);
    let bits: Vec<u8> = (0..W * H)
        .map(|i| u8::from(semi.contains(i % W, i / W) || opaque.contains(i % W, i / W)))
        .collect();
    let mask = framejet_inpaint::Mask::from_bits(W, H, &bits).unwrap();
    let config = InpaintConfig::default().mark(MarkModel::Estimate { frames: 16 });
    for (name, marked) in ["pan, then still", "still"].into_iter().zip(&marked) {
        let fast = run(config.clone(), &mask, marked);
        let reference = run(config.clone().kernels(Kernels::Reference), &mask, marked);
        let mut worst = 0;
        for (a, b) in fast.iter().zip(&reference) {
            for p in 0..3 {
                for (x, y) in a.data(p).iter().zip(b.data(p)) {
                    worst = worst.max(x.abs_diff(*y));
                }
            }
        }
        assert!(
            worst <= 1,
            "{name}: optimised and reference kernels differ by {worst}"
        );
    }
}

#[test]
fn a_wrong_mark_model_falls_back_to_a_fill_from_the_surroundings() {
    // A smooth, slowly brightening background with the semi-transparent mark at alpha 0.5,
    // removed with an estimate of the same mark at alpha 0.3: un-blending it leaves two fifths
    // of the mark behind. The check sees the mark's outline stand out and fills what the mark
    // covers from the surroundings, which on a smooth background is nearly exact.
    let clean: Vec<Yuv420Frame> = (0..FRAMES)
        .map(|t| {
            let mut f = Yuv420Frame::new(W, H);
            for (p, (base, dx, dy)) in [(70.0, 0.6, 0.3), (110.0, 0.1, 0.0), (150.0, 0.0, -0.1)]
                .into_iter()
                .enumerate()
            {
                let (pw, _) = f.plane_size(p);
                let scale = if p == 0 { 1.0 } else { 2.0 };
                for (i, v) in f.data_mut(p).iter_mut().enumerate() {
                    let (x, y) = ((i % pw) as f32 * scale, (i / pw) as f32 * scale);
                    *v = (base + dx * x + dy * y + t as f32 * 0.5).round() as u8;
                }
            }
            f
        })
        .collect();
    let marked = overlay(&clean, &semi_logo(0.5), SEMI_AT.0, SEMI_AT.1);
    let too_faint = semi_logo(0.3);
    let model = semi_model(&too_faint);
    let mask = model.mask().unwrap();
    let config = InpaintConfig::default().mark(MarkModel::Estimated(model));
    let mut inpainter = framejet_inpaint::Inpainter::new(config, mask.clone()).unwrap();
    let mut out = Vec::new();
    for f in &marked {
        out.extend(inpainter.push(f.clone()).unwrap());
    }
    out.extend(inpainter.finish().unwrap());
    let stats = inpainter.stats();
    let ours = psnr_in_mask(&out, &clean, &mask);
    eprintln!(
        "wrong model on a smooth background: {ours:.2} dB, {} of {} frames filled instead",
        stats.fallback_frames, stats.frames
    );
    assert!(
        stats.fallback_frames >= FRAMES as u64 - 4,
        "{} of {FRAMES} frames fell back",
        stats.fallback_frames
    );
    assert_floor("wrong model, smooth", &out, &marked, &clean, &mask, 40.0);
}

#[test]
fn a_right_mark_model_is_kept() {
    // The same check leaves a right restoration alone, on texture that moves.
    let clean = clip(W, H, FRAMES, 3.0, 1.0, 0.0);
    let logo = semi_logo(0.5);
    let marked = overlay(&clean, &logo, SEMI_AT.0, SEMI_AT.1);
    let model = semi_model(&logo);
    let mask = model.mask().unwrap();
    for mark in [MarkModel::Given(model.clone()), MarkModel::Estimated(model)] {
        let mut inpainter =
            framejet_inpaint::Inpainter::new(InpaintConfig::default().mark(mark), mask.clone())
                .unwrap();
        for f in &marked {
            inpainter.push(f.clone()).unwrap();
        }
        inpainter.finish().unwrap();
        assert_eq!(inpainter.stats().fallback_frames, 0);
    }
}

#[test]
fn a_mark_over_a_smooth_background_keeps_its_outline() {
    // A smooth gradient that pans, with faint texture: each pixel's background varies too
    // little over the frames for a line of its own, so the opacity comes from the two means
    // and the mark's colour. It must come out where the mark is, at its opacity, and nowhere
    // else.
    let clean: Vec<Yuv420Frame> = (0..FRAMES)
        .map(|t| {
            let mut f = Yuv420Frame::new(W, H);
            let textured = clip(W, H, 1, 0.0, 0.0, 0.0).remove(0);
            for p in 0..3 {
                let (pw, _) = f.plane_size(p);
                let scale = if p == 0 { 1.0 } else { 2.0 };
                let texture = textured.data(p).to_vec();
                for (i, v) in f.data_mut(p).iter_mut().enumerate() {
                    let (x, y) = ((i % pw) as f32 * scale, (i / pw) as f32 * scale);
                    let x = x + 2.0 * t as f32;
                    let smooth = 60.0 + 0.4 * x + 0.2 * y + 10.0 * p as f32;
                    let faint = (f32::from(texture[i]) - 128.0) * 0.03;
                    *v = (smooth + faint).clamp(0.0, 255.0).round() as u8;
                }
            }
            f
        })
        .collect();
    let logo = semi_logo(0.5);
    let marked = overlay(&clean, &logo, SEMI_AT.0, SEMI_AT.1);
    let mask = logo_mask(&logo, SEMI_AT.0, SEMI_AT.1, W, H, 3);
    let model = LogoModel::estimate(&marked, &mask, &InpaintConfig::default()).unwrap();
    let truth = |x: usize, y: usize| {
        let (lx, ly) = (x.wrapping_sub(SEMI_AT.0), y.wrapping_sub(SEMI_AT.1));
        if lx < logo.w && ly < logo.h {
            f32::from(logo.rgba[(ly * logo.w + lx) * 4 + 3]) / 255.0
        } else {
            0.0
        }
    };
    let (mut error, mut n, mut stray, mut outside) = (0.0f32, 0, 0, 0);
    for y in 0..H {
        for x in 0..W {
            if !mask.contains(x, y) {
                continue;
            }
            let (got, want) = (model.alpha(0, x, y), truth(x, y));
            if want > 0.0 {
                error += (got - want).abs();
                n += 1;
            } else {
                outside += 1;
                stray += usize::from(got > 0.05);
            }
        }
    }
    let error = error / n as f32;
    eprintln!(
        "smooth background: mean alpha error {error:.3} over the mark, {stray} of {outside} pixels around it marked"
    );
    assert!(error < 0.06, "mean alpha error {error:.3}");
    assert!(
        stray * 10 < outside,
        "{stray} of {outside} pixels around the mark marked"
    );
}

fn planes(frame: &Yuv420Frame) -> [framejet_inpaint::Plane<'_>; 3] {
    [0, 1, 2].map(|i| frame.plane(i))
}

#[test]
fn a_mark_that_jumps_is_found_at_each_place_with_its_frames() {
    // A pan at (2, 1) px per frame; a semi-transparent mark in the top left for frames 0-21,
    // bottom right for 22-43 and top right from 44 on.
    let (w, h, n) = (256, 160, 64);
    let clean = clip(w, h, n, 2.0, 1.0, 1.0);
    let logo = semi_logo(0.5);
    let stays = [(0..22, (16, 12)), (22..44, (184, 112)), (44..n, (176, 16))];
    let mut marked = Vec::new();
    for (range, at) in &stays {
        marked.extend(overlay(&clean[range.clone()], &logo, at.0, at.1));
    }
    let mut finder = PlaceFinder::new(w, h);
    for t in 0..n - 1 {
        finder
            .add(
                (t as u64, planes(&marked[t])),
                &[(t as u64 + 1, planes(&marked[t + 1]))],
            )
            .unwrap();
    }
    let places = finder.finish(&DetectOptions::default()).unwrap();
    assert_eq!(places.len(), 3, "{places:?}");
    // The picture alone has no place.
    let mut finder = PlaceFinder::new(w, h);
    for t in 0..n - 1 {
        finder
            .add(
                (t as u64, planes(&clean[t])),
                &[(t as u64 + 1, planes(&clean[t + 1]))],
            )
            .unwrap();
    }
    let none = finder.finish(&DetectOptions::default()).unwrap();
    assert!(none.is_empty(), "{none:?}");
    for (place, (range, at)) in places.iter().zip(&stays) {
        let truth = logo_mask(&logo, at.0, at.1, w, h, 0);
        let covered = (0..w * h)
            .filter(|&i| truth.contains(i % w, i / w) && place.mask.contains(i % w, i / w))
            .count() as f64
            / truth.count() as f64;
        eprintln!(
            "place at {at:?}: {} pixels for {}, {covered:.2} covered, samples {}..={} (true {range:?}), before {:?}, after {:?}",
            place.mask.count(),
            truth.count(),
            place.first,
            place.last,
            place.before,
            place.after
        );
        if std::env::var("DUMP").is_ok() {
            for y in at.1.saturating_sub(4)..(at.1 + 34).min(h) {
                let line: String = (at.0.saturating_sub(4)..(at.0 + 60).min(w))
                    .map(
                        |x| match (truth.contains(x, y), place.mask.contains(x, y)) {
                            (true, true) => '#',
                            (true, false) => 'o',
                            (false, true) => '+',
                            _ => '.',
                        },
                    )
                    .collect();
                eprintln!("{line}");
            }
        }
        assert!(covered >= 0.9, "{covered}");
        assert!(place.mask.count() <= 3 * truth.count());
        // The samples are pairs (t, t + 1): those that show the mark throughout.
        let (first, last) = (place.first as usize, place.last as usize);
        assert!(range.contains(&first) && range.contains(&last));
        // Frame by frame between the samples either side, the first frame it is there and
        // the first it is gone.
        let p = |i: usize| marked[i].plane(0);
        if let Some(before) = place.before {
            let (mut lo, mut hi) = (before as usize, first);
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if place.is_present(p(mid), p(first), p(before as usize)) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            assert_eq!(hi, range.start, "the first frame at {at:?}");
        }
        if let Some(after) = place.after {
            let (mut lo, mut hi) = (last, after as usize);
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if place.is_present(p(mid), p(last), p(after as usize)) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            assert_eq!(hi, range.end, "the frame it is gone from {at:?}");
        }
    }
}
