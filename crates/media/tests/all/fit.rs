//! `Fitter`: output size, borders in the pad colour, content centred, crop, odd and portrait
//! sizes, pass-through.

use crate::common::*;
use framejet_media::{ColorMatrix, Decoder, FitMode, Fitter, VideoFrame};

/// A frame whose left half has luma `l` and right half luma `r` (chroma neutral).
fn halves(w: u32, h: u32, l: u8, r: u8) -> VideoFrame {
    let mut f = solid(w, h, [l, 128, 128]);
    let s = f.stride(0);
    let p = f.plane_mut(0);
    for y in 0..h as usize {
        for x in (w as usize / 2)..w as usize {
            p[y * s + x] = r;
        }
    }
    f.index = 7;
    f.pts_us = 280_000;
    f
}

#[test]
fn pad_centres_and_borders_in_pad_colour() {
    let red = [255, 0, 0];
    let pad = ColorMatrix::Bt601.rgb_to_yuv(red);
    let mut fit = Fitter::new(320, 240, 640, 360, FitMode::Pad, red).unwrap();
    let out = fit.fit(halves(320, 240, 60, 180)).unwrap();
    assert_eq!((out.width(), out.height()), (640, 360));
    assert_eq!((out.index, out.pts_us), (7, 280_000));
    // 4:3 into 16:9: scaled to 480x360 at x = 80.
    for y in [0, 100, 359] {
        for x in [0, 40, 79, 560, 600, 639] {
            assert_eq!(at(&out, 0, x, y), pad[0], "luma border at {x},{y}");
        }
        for x in [0, 39, 280, 319] {
            assert_eq!(at(&out, 1, x, y / 2), pad[1], "U border at {x}");
            assert_eq!(at(&out, 2, x, y / 2), pad[2], "V border at {x}");
        }
        for x in [90, 200, 310] {
            assert!(
                at(&out, 0, x, y).abs_diff(60) <= 1,
                "left content at {x},{y}: {}",
                at(&out, 0, x, y)
            );
        }
        for x in [330, 450, 549] {
            assert!(
                at(&out, 0, x, y).abs_diff(180) <= 1,
                "right content at {x},{y}: {}",
                at(&out, 0, x, y)
            );
        }
        assert!(at(&out, 1, 160, y / 2).abs_diff(128) <= 1);
    }
}

/// Every pixel of every plane outside the picture's rectangle is `pad`.
fn assert_border(out: &VideoFrame, pad: [u8; 3], rect: (usize, usize, usize, usize)) {
    let (rx, ry, rw, rh) = rect;
    for (i, &value) in pad.iter().enumerate() {
        let s = usize::from(i > 0);
        let (x0, y0, x1, y1) = (rx >> s, ry >> s, (rx + rw) >> s, (ry + rh) >> s);
        for y in 0..out.plane_height(i) {
            for x in 0..out.plane_width(i) {
                if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
                    continue;
                }
                assert_eq!(at(out, i, x, y), value, "plane {i} at {x},{y}");
            }
        }
    }
}

#[test]
fn nothing_of_the_picture_spills_into_the_border() {
    // Bright content, so anything written past the picture's edge shows. The 720x1280 case
    // is the phone clip of the compilation example: 404 pixels wide at x = 438.
    for (sw, sh, dw, dh, rect) in [
        (720, 1280, 1280, 720, (438, 0, 404, 720)),
        (720, 1280, 1920, 1080, (656, 0, 608, 1080)),
        (320, 240, 640, 360, (80, 0, 480, 360)),
        (1280, 720, 640, 640, (0, 140, 640, 360)),
    ] {
        let mut fit = Fitter::new(sw, sh, dw, dh, FitMode::Pad, [0, 0, 0]).unwrap();
        let out = fit.fit(solid(sw, sh, [235, 40, 220])).unwrap();
        assert_border(&out, [16, 128, 128], rect);
    }
}

#[test]
fn crop_fills_and_cuts_centred() {
    // Rows outside the centred 16:9 band are bright; the band is dark: cropping must keep
    // only the band.
    let mut f = solid(320, 240, [60, 128, 128]);
    let s = f.stride(0);
    for y in (0..30).chain(210..240) {
        f.plane_mut(0)[y * s..y * s + 320].fill(220);
    }
    let mut fit = Fitter::new(320, 240, 640, 360, FitMode::Crop, [0, 0, 0]).unwrap();
    let out = fit.fit(f).unwrap();
    assert_eq!((out.width(), out.height()), (640, 360));
    for y in [0, 1, 180, 358, 359] {
        for x in [0, 320, 639] {
            assert!(
                at(&out, 0, x, y).abs_diff(60) <= 1,
                "at {x},{y}: {}",
                at(&out, 0, x, y)
            );
        }
    }
}

#[test]
fn portrait_into_landscape() {
    let mut fit = Fitter::new(720, 1280, 1920, 1080, FitMode::Pad, [0, 0, 0]).unwrap();
    let out = fit.fit(solid(720, 1280, [200, 100, 150])).unwrap();
    assert_eq!((out.width(), out.height()), (1920, 1080));
    // 608 wide at x = 656.
    assert_eq!(at(&out, 0, 655, 540), 16);
    assert_eq!(at(&out, 0, 1264, 540), 16);
    assert!(at(&out, 0, 960, 0).abs_diff(200) <= 1);
    assert!(at(&out, 0, 657, 1079).abs_diff(200) <= 1);
    assert!(at(&out, 1, 480, 270).abs_diff(100) <= 1);
    assert_eq!(at(&out, 2, 327, 270), 128);
}

#[test]
fn odd_input_sizes_and_stretch() {
    let dec = Decoder::open(sized(
        "odd444.mp4",
        640,
        360,
        &["-vf", "scale=641:359,format=yuv444p"],
    ))
    .unwrap()
    .next()
    .unwrap()
    .unwrap();
    for mode in [FitMode::Pad, FitMode::Crop, FitMode::Stretch] {
        let mut fit = Fitter::new(641, 359, 640, 360, mode, [0, 0, 0]).unwrap();
        let out = fit.fit(dec.clone()).unwrap();
        assert_eq!((out.width(), out.height()), (640, 360), "{mode:?}");
        let mut fit = Fitter::new(641, 359, 360, 640, mode, [0, 0, 0]).unwrap();
        let out = fit.fit(dec.clone()).unwrap();
        assert_eq!((out.width(), out.height()), (360, 640), "{mode:?}");
    }
    let mut fit = Fitter::new(320, 240, 640, 360, FitMode::Stretch, [0, 0, 0]).unwrap();
    let out = fit.fit(solid(320, 240, [90, 128, 128])).unwrap();
    assert!(at(&out, 0, 0, 0).abs_diff(90) <= 1);
    assert!(at(&out, 0, 639, 359).abs_diff(90) <= 1);
}

#[test]
fn same_size_passes_through_without_copy() {
    let f = solid(320, 240, [90, 128, 128]);
    let ptr = f.plane(0).as_ptr();
    let mut fit = Fitter::new(320, 240, 320, 240, FitMode::Pad, [0, 0, 0]).unwrap();
    let out = fit.fit(f).unwrap();
    assert!(std::ptr::eq(out.plane(0).as_ptr(), ptr));
}

#[test]
fn other_source_sizes_are_handled() {
    let mut fit = Fitter::new(320, 240, 640, 360, FitMode::Pad, [0, 0, 0]).unwrap();
    let out = fit.fit(solid(100, 300, [90, 128, 128])).unwrap();
    assert_eq!((out.width(), out.height()), (640, 360));
}

#[test]
fn odd_output_is_refused() {
    for (w, h) in [(641, 360), (640, 359), (0, 360)] {
        let e = Fitter::new(320, 240, w, h, FitMode::Pad, [0, 0, 0])
            .err()
            .unwrap();
        assert!(e.to_string().contains("even"), "{e}");
    }
}
