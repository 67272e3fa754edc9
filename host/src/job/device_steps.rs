//! Runs of consecutive `fit` and overlay steps on the GPU: a frame is uploaded once before the
//! first and downloaded once after the last, and everything between happens on the device
//! (`framejet_gpu`'s `fit` and compositing, the twins of the CPU steps). An overlay's
//! `inpaint` draw op, which has no GPU twin, takes the frame to the CPU and back.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use framejet_gpu::{Backend, DeviceFit, DeviceFrame, DeviceImage, FitPlacement, GpuError};
use framejet_media::{ColorMatrix, Fitter, VideoFrame};

use super::steps::{Drawing, OverlayStage, StepError, inpaint_region};

/// A step of a device run.
pub(crate) enum DeviceStep {
    Fit(Fitter),
    Overlay(Box<OverlayStage>),
}

/// A run of device steps on one backend, as the step chain holds it.
pub(crate) trait DeviceRun {
    /// Runs `frame` through every step of the run.
    fn run(&mut self, frame: VideoFrame) -> Result<VideoFrame, StepError>;
}

/// The steps of a run on backend `B`, with what each keeps on the device.
pub(crate) struct Run<B: Backend> {
    backend: B,
    steps: Vec<(DeviceStep, Option<FitOnDevice<B>>)>,
    /// Overlay images on the device, by the address of the step's converted image (each
    /// overlay step keeps its images for the whole segment).
    images: HashMap<usize, DeviceImage<B>>,
}

/// A fit's filters for one source size.
struct FitOnDevice<B: Backend> {
    source: (u32, u32),
    fit: DeviceFit<B>,
}

fn gpu(e: GpuError) -> StepError {
    StepError::Other(format!("on the GPU: {e}"))
}

impl<B: Backend> Run<B> {
    pub(crate) fn new(backend: B, steps: Vec<DeviceStep>) -> Self {
        Self {
            backend,
            steps: steps.into_iter().map(|s| (s, None)).collect(),
            images: HashMap::new(),
        }
    }
}

/// A frame on the device.
fn upload<B: Backend>(b: &B, frame: &VideoFrame) -> Result<DeviceFrame<B>, StepError> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut dev = DeviceFrame::new(b, w, h).map_err(gpu)?;
    dev.upload(
        b,
        [frame.plane(0), frame.plane(1), frame.plane(2)],
        [frame.stride(0), frame.stride(1), frame.stride(2)],
    )
    .map_err(gpu)?;
    Ok(dev)
}

/// A device frame back on the host, with `like`'s index and time.
fn download<B: Backend>(
    b: &B,
    dev: &DeviceFrame<B>,
    like: &VideoFrame,
) -> Result<VideoFrame, StepError> {
    let (w, h) = (dev.width(), dev.height());
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut planes = [vec![0u8; w * h], vec![0u8; cw * ch], vec![0u8; cw * ch]];
    let [y, u, v] = &mut planes;
    dev.download(b, [y, u, v], [w, cw, cw]).map_err(gpu)?;
    let mut frame = VideoFrame::from_planes(
        w as u32,
        h as u32,
        [&planes[0], &planes[1], &planes[2]],
        [w, cw, cw],
    )
    .map_err(|e| StepError::Other(e.to_string()))?;
    (frame.index, frame.pts_us) = (like.index, like.pts_us);
    Ok(frame)
}

impl<B: Backend> DeviceRun for Run<B> {
    fn run(&mut self, frame: VideoFrame) -> Result<VideoFrame, StepError> {
        let Run {
            backend: b,
            steps,
            images,
        } = self;
        let mut dev = upload(b, &frame)?;
        for step in steps.iter_mut() {
            let (w, h) = (dev.width() as u32, dev.height() as u32);
            match step {
                (DeviceStep::Fit(fitter), state) => {
                    let (ow, oh) = fitter.output_size();
                    if (w, h) == (ow, oh) {
                        continue;
                    }
                    if state.as_ref().is_none_or(|s| s.source != (w, h)) {
                        let g = fitter
                            .geometry_for(w, h)
                            .map_err(|e| StepError::Other(e.to_string()))?;
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
                            b,
                            placement,
                            ow as usize,
                            oh as usize,
                            fitter.pad_yuv(),
                        )
                        .map_err(gpu)?;
                        *state = Some(FitOnDevice {
                            source: (w, h),
                            fit,
                        });
                    }
                    let Some(state) = state.as_ref() else {
                        return Err(StepError::Other("fit not set up".into()));
                    };
                    let mut out = DeviceFrame::new(b, ow as usize, oh as usize).map_err(gpu)?;
                    state.fit.run(b, &dev, &mut out).map_err(gpu)?;
                    dev = out;
                }
                (DeviceStep::Overlay(overlay), _) => {
                    let drawings = overlay.resolve(frame.index, frame.pts_us, h)?;
                    for drawing in drawings {
                        match drawing {
                            Drawing::Image {
                                image,
                                x,
                                y,
                                opacity,
                            } => {
                                let key = std::sync::Arc::as_ptr(&image) as usize;
                                let dev_image = match images.entry(key) {
                                    Entry::Occupied(e) => e.into_mut(),
                                    Entry::Vacant(e) => e.insert(
                                        DeviceImage::upload(
                                            b,
                                            image.width() as usize,
                                            image.height() as usize,
                                            image.planes(),
                                        )
                                        .map_err(gpu)?,
                                    ),
                                };
                                framejet_gpu::blend(b, &mut dev, dev_image, x, y, opacity)
                                    .map_err(gpu)?;
                            }
                            Drawing::Rect {
                                x,
                                y,
                                w: rw,
                                h: rh,
                                rgba,
                            } => {
                                let yuv = ColorMatrix::for_height(h)
                                    .rgb_to_yuv([rgba[0], rgba[1], rgba[2]]);
                                framejet_gpu::fill_rect(b, &mut dev, x, y, rw, rh, yuv, rgba[3])
                                    .map_err(gpu)?;
                            }
                            Drawing::Inpaint { x, y, w: rw, h: rh } => {
                                let mut host = download(b, &dev, &frame)?;
                                inpaint_region(&mut host, x, y, rw, rh)?;
                                dev = upload(b, &host)?;
                            }
                        }
                    }
                }
            }
        }
        download(b, &dev, &frame)
    }
}
