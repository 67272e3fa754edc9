//! The CUDA twins of compositing and `fit` (crate `framejet-gpu`), their sources compiled for
//! the CPU, against this crate's CPU code on decoded frames: compositing exact; `fit` within 4
//! levels anywhere and 0.05 on average (float where swscale rounds its intermediate rows to
//! fixed point; the largest differences are in upscaled chroma). On a GPU, `framejet-gpu`'s own
//! tests check the GPU against the same emulation, bit for bit.

use crate::common::*;
use framejet_gpu::{DeviceFit, DeviceFrame, DeviceImage, Emulated, FitPlacement};
use framejet_media::{
    ColorMatrix, Decoder, FitMode, Fitter, RgbaImage, VideoFrame, YuvaImage, blend, fill_rect,
};

fn first_frame(path: &std::path::Path) -> VideoFrame {
    let mut d = Decoder::open(path).unwrap();
    d.next_frame().unwrap().unwrap()
}

fn upload(frame: &VideoFrame) -> DeviceFrame<Emulated> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut dev = DeviceFrame::new(&Emulated, w, h).unwrap();
    dev.upload(
        &Emulated,
        [frame.plane(0), frame.plane(1), frame.plane(2)],
        [frame.stride(0), frame.stride(1), frame.stride(2)],
    )
    .unwrap();
    dev
}

fn download(dev: &DeviceFrame<Emulated>) -> [Vec<u8>; 3] {
    let (w, h) = (dev.width(), dev.height());
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut planes = [vec![0; w * h], vec![0; cw * ch], vec![0; cw * ch]];
    let [a, b, c] = &mut planes;
    dev.download(&Emulated, [a, b, c], [w, cw, cw]).unwrap();
    planes
}

/// The frame's planes, rows packed.
fn packed_planes(frame: &VideoFrame) -> [Vec<u8>; 3] {
    std::array::from_fn(|i| {
        let (w, h) = (frame.plane_width(i), frame.plane_height(i));
        (0..h)
            .flat_map(|y| frame.plane(i)[y * frame.stride(i)..][..w].to_vec())
            .collect()
    })
}

/// An RGBA sprite with transparent columns, soft alpha and saturated colours.
fn sprite(w: u32, h: u32) -> RgbaImage {
    let pixels = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let a = if x < 6 {
                0
            } else {
                ((x * 9 + y * 5) % 256) as u8
            };
            [
                (x * 3 % 256) as u8,
                (y * 7 % 256) as u8,
                ((x + y) * 5 % 256) as u8,
                a,
            ]
        })
        .collect();
    RgbaImage {
        width: w,
        height: h,
        pixels,
    }
}

#[test]
fn compositing_twins_equal_the_cpu_exactly() {
    let frame = first_frame(&video_320());
    let image = YuvaImage::from_image(&sprite(97, 45), ColorMatrix::Bt601).unwrap();
    let dev_image = DeviceImage::upload(
        &Emulated,
        image.width() as usize,
        image.height() as usize,
        image.planes(),
    )
    .unwrap();
    let (w, h) = (frame.width() as i32, frame.height() as i32);
    // Odd and even places, clipped on every side, several opacities.
    let places = [
        (11, 7, 0.8),
        (-30, -9, 1.0),
        (w - 50, h - 20, 0.35),
        (40, 101, 1.0),
    ];
    let mut cpu = frame.clone();
    let mut gpu = upload(&frame);
    for (x, y, op) in places {
        blend(&mut cpu, &image, x, y, op);
        framejet_gpu::blend(&Emulated, &mut gpu, &dev_image, x, y, op).unwrap();
    }
    let rgba = [250, 40, 90, 170];
    let yuv = ColorMatrix::for_height(frame.height()).rgb_to_yuv([rgba[0], rgba[1], rgba[2]]);
    for (x, y, rw, rh) in [(3, 5, 60, 31), (w - 17, -4, 40, 40)] {
        fill_rect(&mut cpu, x, y, rw, rh, rgba);
        framejet_gpu::fill_rect(&Emulated, &mut gpu, x, y, rw, rh, yuv, rgba[3]).unwrap();
    }
    let (got, want) = (download(&gpu), packed_planes(&cpu));
    for p in 0..3 {
        let diff = got[p].iter().zip(&want[p]).filter(|(a, b)| a != b).count();
        assert_eq!(diff, 0, "plane {p}: {diff} samples differ from the CPU");
    }
    assert_ne!(want[0], packed_planes(&frame)[0], "the case draws nothing");
}

/// Largest and mean absolute difference of two planes.
fn diff(a: &[u8], b: &[u8]) -> (u8, f64) {
    let max = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    (max, sum as f64 / a.len() as f64)
}

#[test]
fn fit_twin_matches_swscale_within_four_levels() {
    // Up (pad), down (pad), down (crop), and an odd source size.
    let cases = [
        (video_320(), 1920, 1080, FitMode::Pad),
        (
            sized("gpu_1280x720.mp4", 1280, 720, &[]),
            640,
            360,
            FitMode::Pad,
        ),
        (
            sized("gpu_1280x720.mp4", 1280, 720, &[]),
            480,
            480,
            FitMode::Crop,
        ),
        (
            sized("gpu_642x362.mp4", 642, 362, &[]),
            1280,
            720,
            FitMode::Pad,
        ),
    ];
    for (clip, ow, oh, mode) in cases {
        let frame = first_frame(&clip);
        let (sw, sh) = (frame.width(), frame.height());
        let mut fitter = Fitter::new(sw, sh, ow, oh, mode, [20, 20, 200]).unwrap();
        let want = packed_planes(&fitter.fit(frame.clone()).unwrap());
        let g = fitter.geometry().unwrap();
        let placement = FitPlacement {
            src_x: g.src_x,
            src_y: g.src_y,
            src_w: g.src_w,
            src_h: g.src_h,
            dst_x: g.dst_x,
            dst_y: g.dst_y,
            dst_w: g.dst_w,
            dst_h: g.dst_h,
        };
        let fit = DeviceFit::new(
            &Emulated,
            placement,
            ow as usize,
            oh as usize,
            fitter.pad_yuv(),
        )
        .unwrap();
        let src = upload(&frame);
        let mut out = DeviceFrame::new(&Emulated, ow as usize, oh as usize).unwrap();
        fit.run(&Emulated, &src, &mut out).unwrap();
        let got = download(&out);
        for p in 0..3 {
            let (max, mean) = diff(&got[p], &want[p]);
            println!("{sw}x{sh} -> {ow}x{oh} {mode:?} plane {p}: max {max}, mean {mean:.3}");
            assert!(
                max <= 4 && mean < 0.05,
                "plane {p}: max {max}, mean {mean:.3}"
            );
        }
    }
}
