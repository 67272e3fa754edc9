//! Compositing on yuv420p: exact values for known colours, opacities and positions
//! (including odd and negative ones), and a float reference for random images.

use crate::common::*;
use framejet_media::{
    ColorMatrix, VideoFrame, YuvaImage, blend, decode_image, fill_rect, load_image,
};

fn rgba_solid(w: u32, h: u32, px: [u8; 4]) -> Vec<u8> {
    px.iter()
        .copied()
        .cycle()
        .take(w as usize * h as usize * 4)
        .collect()
}

/// Expected blend of `over` onto `under` at alpha `a` (0..=1), real-valued.
fn mix(under: u8, over: u8, a: f64) -> f64 {
    f64::from(under) * (1.0 - a) + f64::from(over) * a
}

fn close(got: u8, want: f64, tol: f64, what: &str) {
    assert!(
        (f64::from(got) - want).abs() <= tol,
        "{what}: got {got}, want {want:.2}"
    );
}

#[test]
fn blend_known_colour_at_known_place() {
    // Grey SD frame; a 16x10 blue image at (10, 20) with 50 % opacity.
    let bg = [126, 128, 128];
    let mut f = solid(64, 48, bg);
    let blue = ColorMatrix::Bt601.rgb_to_yuv([0, 0, 255]);
    let img = YuvaImage::from_rgba(
        16,
        10,
        &rgba_solid(16, 10, [0, 0, 255, 255]),
        ColorMatrix::Bt601,
    )
    .unwrap();
    blend(&mut f, &img, 10, 20, 0.5);
    close(
        at(&f, 0, 10, 20),
        mix(bg[0], blue[0], 0.5),
        1.0,
        "Y inside (corner)",
    );
    close(
        at(&f, 0, 25, 29),
        mix(bg[0], blue[0], 0.5),
        1.0,
        "Y inside (far corner)",
    );
    assert_eq!(at(&f, 0, 9, 20), bg[0], "Y left of image");
    assert_eq!(at(&f, 0, 26, 20), bg[0], "Y right of image");
    assert_eq!(at(&f, 0, 10, 19), bg[0], "Y above image");
    assert_eq!(at(&f, 0, 10, 30), bg[0], "Y below image");
    close(at(&f, 1, 6, 12), mix(bg[1], blue[1], 0.5), 2.0, "U inside");
    close(at(&f, 2, 6, 12), mix(bg[2], blue[2], 0.5), 2.0, "V inside");
    assert_eq!(at(&f, 1, 4, 12), 128, "U outside");
}

#[test]
fn blend_at_odd_and_negative_positions() {
    let bg = [16, 128, 128];
    let white = [235u8, 128, 128];
    let red = ColorMatrix::Bt601.rgb_to_yuv([255, 0, 0]);
    let img = YuvaImage::from_rgba(
        8,
        8,
        &rgba_solid(8, 8, [255, 0, 0, 255]),
        ColorMatrix::Bt601,
    )
    .unwrap();
    // Odd position: chroma sample 2 covers luma columns 4 (outside) and 5 (inside): half.
    let mut f = solid(32, 32, bg);
    blend(&mut f, &img, 5, 7, 1.0);
    assert_eq!(at(&f, 0, 5, 7), red[0]);
    assert_eq!(at(&f, 0, 4, 7), bg[0]);
    assert_eq!(at(&f, 0, 12, 14), red[0]);
    assert_eq!(at(&f, 0, 13, 14), bg[0]);
    // Chroma (2, 3) covers luma x 4–5, y 6–7: one of four pixels is red.
    close(
        at(&f, 2, 2, 3),
        mix(bg[2], red[2], 0.25),
        1.0,
        "V quarter-covered",
    );
    // Chroma (3, 4) covers luma x 6–7, y 8–9: fully red.
    assert_eq!(at(&f, 2, 3, 4), red[2]);
    // Negative position: clipped, no panic.
    let mut f = solid(32, 32, bg);
    blend(&mut f, &img, -5, -3, 1.0);
    assert_eq!(at(&f, 0, 0, 0), red[0]);
    assert_eq!(at(&f, 0, 2, 4), red[0]);
    assert_eq!(at(&f, 0, 3, 4), bg[0]);
    assert_eq!(at(&f, 0, 2, 5), bg[0]);
    // Entirely outside, zero opacity, NaN opacity: unchanged.
    let mut f = solid(32, 32, white);
    let before = checksum(&f);
    blend(&mut f, &img, 40, 0, 1.0);
    blend(&mut f, &img, -8, 0, 1.0);
    blend(&mut f, &img, 0, 0, 0.0);
    blend(&mut f, &img, 0, 0, f32::NAN);
    assert_eq!(checksum(&f), before);
    // Odd frame size, image over the last odd column/row.
    let mut f = solid(33, 31, bg);
    blend(&mut f, &img, 28, 26, 1.0);
    assert_eq!(at(&f, 0, 32, 30), red[0]);
}

#[test]
fn blend_matches_a_float_reference() {
    // Random image, random alpha, random frame: compare with a real-valued 4:4:4 blend
    // subsampled to 4:2:0.
    let mut x: u32 = 12345;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let (fw, fh, iw, ih) = (40u32, 30u32, 17u32, 13u32);
    let mut rgba: Vec<u8> = (0..iw * ih * 4).map(|_| rnd() as u8).collect();
    // Transparent runs at row ends and a fully transparent row, so the kernels' skipping of
    // transparent spans is covered too.
    for iy in 0..ih {
        for ix in 0..iw {
            if iy == 6 || (iy % 4 == 1 && (ix < 5 || ix >= iw - 3)) {
                rgba[((iy * iw + ix) * 4 + 3) as usize] = 0;
            }
        }
    }
    let img = YuvaImage::from_rgba(iw, ih, &rgba, ColorMatrix::Bt709).unwrap();
    let ys: Vec<u8> = (0..fw * fh).map(|_| 16 + (rnd() % 220) as u8).collect();
    let us: Vec<u8> = (0..fw * fh / 4).map(|_| 16 + (rnd() % 225) as u8).collect();
    let vs: Vec<u8> = (0..fw * fh / 4).map(|_| 16 + (rnd() % 225) as u8).collect();
    let base = VideoFrame::from_planes(
        fw,
        fh,
        [&ys, &us, &vs],
        [fw as usize, fw as usize / 2, fw as usize / 2],
    )
    .unwrap();
    let m = ColorMatrix::Bt709;
    for (px, py, op) in [
        (3, 5, 1.0f32),
        (4, 6, 0.7),
        (-4, -3, 0.35),
        (30, 20, 0.9),
        (-5, 2, 0.5),
        (9, -6, 1.0),
    ] {
        let mut f = base.clone();
        blend(&mut f, &img, px, py, op);
        let alpha_at = |lx: i32, ly: i32| -> Option<(f64, [u8; 3])> {
            let (ix, iy) = (lx - px, ly - py);
            if ix < 0 || iy < 0 || ix >= iw as i32 || iy >= ih as i32 {
                return None;
            }
            let i = (iy as usize * iw as usize + ix as usize) * 4;
            let a = f64::from(rgba[i + 3]) / 255.0 * f64::from(op);
            Some((a, m.rgb_to_yuv([rgba[i], rgba[i + 1], rgba[i + 2]])))
        };
        for ly in 0..fh as i32 {
            for lx in 0..fw as i32 {
                let under = ys[(ly as u32 * fw + lx as u32) as usize];
                let want = match alpha_at(lx, ly) {
                    Some((a, c)) => mix(under, c[0], a),
                    None => f64::from(under),
                };
                close(
                    at(&f, 0, lx as usize, ly as usize),
                    want,
                    1.0,
                    &format!("Y {lx},{ly} at {px},{py} op {op}"),
                );
            }
        }
        for cy in 0..(fh / 2) as i32 {
            for cx in 0..(fw / 2) as i32 {
                for (plane, under_plane) in [(1usize, &us), (2, &vs)] {
                    let under = f64::from(under_plane[(cy as u32 * fw / 2 + cx as u32) as usize]);
                    let mut acc = 0.0;
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        acc += match alpha_at(2 * cx + dx, 2 * cy + dy) {
                            Some((a, c)) => under * (1.0 - a) + f64::from(c[plane]) * a,
                            None => under,
                        };
                    }
                    close(
                        at(&f, plane, cx as usize, cy as usize),
                        acc / 4.0,
                        1.0,
                        &format!("plane {plane} {cx},{cy}"),
                    );
                }
            }
        }
    }
}

#[test]
fn fill_rect_values() {
    // HD frame: BT.709.
    let mut f = solid(1280, 720, [16, 128, 128]);
    let red = ColorMatrix::Bt709.rgb_to_yuv([255, 0, 0]);
    fill_rect(&mut f, 11, 20, 100, 50, [255, 0, 0, 255]);
    assert_eq!(at(&f, 0, 11, 20), red[0]);
    assert_eq!(at(&f, 0, 110, 69), red[0]);
    assert_eq!(at(&f, 0, 10, 20), 16);
    assert_eq!(at(&f, 0, 111, 20), 16);
    assert_eq!(at(&f, 0, 11, 70), 16);
    assert_eq!(at(&f, 2, 20, 15), red[2]);
    // Chroma column 5 covers luma 10 (outside) and 11 (inside): half.
    close(
        at(&f, 2, 5, 15),
        mix(128, red[2], 0.5),
        1.0,
        "half-covered V",
    );
    // Semi-transparent white over black.
    let mut f = solid(64, 48, [16, 128, 128]);
    fill_rect(&mut f, -10, -10, 30, 30, [255, 255, 255, 128]);
    close(
        at(&f, 0, 0, 0),
        mix(16, 235, 128.0 / 255.0),
        1.0,
        "Y half white",
    );
    assert_eq!(at(&f, 0, 20, 0), 16);
    assert_eq!(at(&f, 1, 0, 0), 128);
    // Fully outside: unchanged.
    let before = checksum(&f);
    fill_rect(&mut f, 100, 100, 10, 10, [255, 255, 255, 255]);
    fill_rect(&mut f, 0, 0, 10, 10, [255, 255, 255, 0]);
    assert_eq!(checksum(&f), before);
}

#[test]
fn scaled_images_keep_colour_and_clean_edges() {
    // Opaque white square in a transparent black border: scaling must not darken the edge
    // (premultiplied resampling).
    let (w, h) = (40u32, 40u32);
    let mut rgba = vec![0u8; (w * h * 4) as usize];
    for y in 10..30 {
        for x in 10..30 {
            let i = ((y * w + x) * 4) as usize;
            rgba[i..i + 4].copy_from_slice(&[255, 255, 255, 255]);
        }
    }
    let img = YuvaImage::from_rgba(w, h, &rgba, ColorMatrix::Bt601).unwrap();
    for factor in [0.5f32, 1.7, 3.0] {
        let s = img.scaled(factor).unwrap();
        assert_eq!(s.width(), (w as f32 * factor).round() as u32);
        // Over white, white drawn with any alpha stays white: a dark fringe would show as
        // lower luma at the square's edges.
        let mut f = solid(s.width() + 4, s.height() + 4, [235, 128, 128]);
        blend(&mut f, &s, 2, 2, 1.0);
        for y in 0..f.height() as usize {
            for x in 0..f.width() as usize {
                assert!(
                    at(&f, 0, x, y) >= 234,
                    "dark fringe at {x},{y} for factor {factor}: {}",
                    at(&f, 0, x, y)
                );
            }
        }
        // And the middle is opaque white over black.
        let mut f = solid(s.width(), s.height(), [16, 128, 128]);
        blend(&mut f, &s, 0, 0, 1.0);
        let (cx, cy) = ((s.width() / 2) as usize, (s.height() / 2) as usize);
        assert!(
            at(&f, 0, cx, cy) >= 233,
            "centre for factor {factor}: {}",
            at(&f, 0, cx, cy)
        );
    }
    assert!(img.scaled(0.0).is_err());
    assert!(img.scaled(f32::NAN).is_err());
}

#[test]
fn images_from_files_and_bytes() {
    let png = ffmpeg_fixture(
        "alpha.png",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=red@0.5:size=30x20,format=rgba",
            "-frames:v",
            "1",
        ],
    );
    let img = load_image(&png).unwrap();
    assert_eq!((img.width, img.height), (30, 20));
    assert_eq!(img.pixels.len(), 30 * 20 * 4);
    assert_eq!(&img.pixels[..3], &[255, 0, 0]);
    assert!(img.pixels[3].abs_diff(128) <= 1, "alpha {}", img.pixels[3]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(decode_image(&bytes, "logo").unwrap(), img);
    let e = decode_image(b"not an image", "logo").unwrap_err();
    assert!(e.to_string().contains("logo"), "{e}");
    let e = load_image(fixture_dir().join("nope.png")).unwrap_err();
    assert!(e.to_string().contains("nope.png"), "{e}");
}
