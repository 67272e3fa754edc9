//! Runs of consecutive `fit` and overlay steps on the GPU: a frame is uploaded once before the
//! first and downloaded once after the last, and everything between happens on the device
//! (`framejet_gpu`'s `fit` and compositing, the twins of the CPU steps). An overlay's
//! `inpaint` draw op, which has no GPU twin, takes the frame to the CPU and back.
//!
//! An overlay's draw ops are asked for once per frame, before any GPU work, so that a GPU
//! that fails can be left for the CPU steps mid-frame: the run says so once in the job log
//! and runs the rest of its segment on the CPU, with the same draw ops.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use framejet_gpu::{Backend, DeviceFit, DeviceFrame, DeviceImage, FitPlacement, GpuError};
use framejet_media::{ColorMatrix, Fitter, VideoFrame};

use crate::plugin::{Level, LogLine, LogSink, LogSource};

use super::steps::{Drawing, OverlayStage, StepError, draw_on_cpu, inpaint_region};

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
    /// The run's name in the job log (its steps' fields) and where to say a GPU failure.
    name: String,
    log: LogSink,
    /// Set once the GPU failed: the rest of the segment runs on the CPU.
    on_cpu: bool,
}

/// Why a frame did not go through the run on the device.
enum Failed {
    /// The GPU failed: the CPU can take over.
    Gpu(GpuError),
    /// A step failed (a plugin, an overlay's inpaint op): the CPU would fail alike.
    Step(StepError),
}

impl From<GpuError> for Failed {
    fn from(e: GpuError) -> Self {
        Failed::Gpu(e)
    }
}

impl From<StepError> for Failed {
    fn from(e: StepError) -> Self {
        Failed::Step(e)
    }
}

/// A fit's filters for one source size.
struct FitOnDevice<B: Backend> {
    source: (u32, u32),
    fit: DeviceFit<B>,
}

impl<B: Backend> Run<B> {
    /// The `steps` on `backend`, named `name` in what it says to `log`.
    pub(crate) fn new(backend: B, steps: Vec<DeviceStep>, name: String, log: LogSink) -> Self {
        Self {
            backend,
            steps: steps.into_iter().map(|s| (s, None)).collect(),
            images: HashMap::new(),
            name,
            log,
            on_cpu: false,
        }
    }

    /// Each overlay step's draw ops for `frame`, in step order, asked for at the frame's size
    /// at that step (after the fits before it).
    fn resolve(&mut self, frame: &VideoFrame) -> Result<Vec<Vec<Drawing>>, StepError> {
        let mut height = frame.height();
        let mut drawings = Vec::new();
        for (step, _) in &mut self.steps {
            match step {
                DeviceStep::Fit(fitter) => height = fitter.output_size().1,
                DeviceStep::Overlay(overlay) => {
                    drawings.push(overlay.resolve(frame.index, frame.pts_us, height)?)
                }
            }
        }
        Ok(drawings)
    }

    /// The run's steps on the CPU.
    fn cpu(
        &mut self,
        frame: VideoFrame,
        drawings: Vec<Vec<Drawing>>,
    ) -> Result<VideoFrame, StepError> {
        let mut frame = frame;
        let mut drawings = drawings.into_iter();
        for (step, _) in &mut self.steps {
            match step {
                DeviceStep::Fit(fitter) => {
                    frame = fitter
                        .fit(frame)
                        .map_err(|e| StepError::Other(e.to_string()))?
                }
                DeviceStep::Overlay(_) => {
                    draw_on_cpu(&mut frame, drawings.next().unwrap_or_default())?
                }
            }
        }
        Ok(frame)
    }
}

/// A frame on the device.
fn upload<B: Backend>(b: &B, frame: &VideoFrame) -> Result<DeviceFrame<B>, GpuError> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut dev = DeviceFrame::new(b, w, h)?;
    dev.upload(
        b,
        [frame.plane(0), frame.plane(1), frame.plane(2)],
        [frame.stride(0), frame.stride(1), frame.stride(2)],
    )?;
    Ok(dev)
}

/// A device frame back on the host, with `like`'s index and time: downloaded straight into a
/// new frame's planes.
fn download<B: Backend>(
    b: &B,
    dev: &DeviceFrame<B>,
    like: &VideoFrame,
) -> Result<VideoFrame, Failed> {
    let mut frame = VideoFrame::black(dev.width() as u32, dev.height() as u32)
        .map_err(|e| Failed::Step(StepError::Other(e.to_string())))?;
    let (planes, strides) = frame.planes_mut();
    dev.download(b, planes, strides)?;
    (frame.index, frame.pts_us) = (like.index, like.pts_us);
    Ok(frame)
}

impl<B: Backend> DeviceRun for Run<B> {
    fn run(&mut self, frame: VideoFrame) -> Result<VideoFrame, StepError> {
        let drawings = self.resolve(&frame)?;
        if !self.on_cpu {
            match self.device(&frame, &drawings) {
                Ok(done) => return Ok(done),
                Err(Failed::Step(e)) => return Err(e),
                Err(Failed::Gpu(e)) => {
                    self.on_cpu = true;
                    (self.log)(&LogLine {
                        source: LogSource::Step("gpu"),
                        level: Level::WARN,
                        message: &format!(
                            "{}: the GPU failed ({e}); the rest of this segment runs them on the CPU",
                            self.name
                        ),
                    });
                }
            }
        }
        self.cpu(frame, drawings)
    }
}

impl<B: Backend> Run<B> {
    /// The run on the device, with the overlays' draw ops already asked for.
    fn device(
        &mut self,
        frame: &VideoFrame,
        drawings: &[Vec<Drawing>],
    ) -> Result<VideoFrame, Failed> {
        let Run {
            backend: b,
            steps,
            images,
            ..
        } = self;
        let mut drawings = drawings.iter();
        let mut dev = upload(b, frame)?;
        for step in steps.iter_mut() {
            match step {
                (DeviceStep::Fit(fitter), state) => dev = fit(b, fitter, state, dev)?,
                (DeviceStep::Overlay(_), _) => {
                    for drawing in drawings.next().into_iter().flatten() {
                        dev = draw(b, images, dev, drawing, frame)?;
                    }
                }
            }
        }
        download(b, &dev, frame)
    }
}

/// `fitter`'s fit of `dev` on the device (its filters made again when the size changes).
fn fit<B: Backend>(
    b: &B,
    fitter: &mut Fitter,
    state: &mut Option<FitOnDevice<B>>,
    dev: DeviceFrame<B>,
) -> Result<DeviceFrame<B>, Failed> {
    let (w, h) = (dev.width() as u32, dev.height() as u32);
    let (ow, oh) = fitter.output_size();
    if (w, h) == (ow, oh) {
        return Ok(dev);
    }
    let fit = match state {
        Some(s) if s.source == (w, h) => &s.fit,
        _ => {
            let g = fitter
                .geometry_for(w, h)
                .map_err(|e| Failed::Step(StepError::Other(e.to_string())))?;
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
            let fit = DeviceFit::new(b, placement, ow as usize, oh as usize, fitter.pad_yuv())?;
            &state
                .insert(FitOnDevice {
                    source: (w, h),
                    fit,
                })
                .fit
        }
    };
    let mut out = DeviceFrame::new(b, ow as usize, oh as usize)?;
    fit.run(b, &dev, &mut out)?;
    Ok(out)
}

/// One of an overlay's draw ops on `dev` (`frame`: the frame it came from, for an `inpaint`
/// op, which goes to the CPU and back).
fn draw<B: Backend>(
    b: &B,
    images: &mut HashMap<usize, DeviceImage<B>>,
    mut dev: DeviceFrame<B>,
    drawing: &Drawing,
    frame: &VideoFrame,
) -> Result<DeviceFrame<B>, Failed> {
    match drawing {
        Drawing::Image {
            image,
            x,
            y,
            opacity,
        } => {
            let key = std::sync::Arc::as_ptr(image) as usize;
            let dev_image = match images.entry(key) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(DeviceImage::upload(
                    b,
                    image.width() as usize,
                    image.height() as usize,
                    image.planes(),
                )?),
            };
            framejet_gpu::blend(b, &mut dev, dev_image, *x, *y, *opacity)?;
        }
        Drawing::Rect { x, y, w, h, rgba } => {
            let matrix = ColorMatrix::for_height(dev.height() as u32);
            let yuv = matrix.rgb_to_yuv([rgba[0], rgba[1], rgba[2]]);
            framejet_gpu::fill_rect(b, &mut dev, *x, *y, *w, *h, yuv, rgba[3])?;
        }
        Drawing::Inpaint { x, y, w, h } => {
            let mut host = download(b, &dev, frame)?;
            inpaint_region(&mut host, *x, *y, *w, *h)?;
            dev = upload(b, &host)?;
        }
    }
    Ok(dev)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use framejet_gpu::{Args, Grid, Kernel};
    use framejet_media::FitMode;

    use super::*;

    /// A backend whose every allocation fails, as a GPU out of memory does.
    struct Broken;

    impl Backend for Broken {
        type Buffer = ();

        fn alloc(&self, _: usize) -> Result<(), GpuError> {
            Err(GpuError::Invalid("out of memory (a test's backend)".into()))
        }

        fn upload(&self, _: &mut (), _: &[u8]) -> Result<(), GpuError> {
            Ok(())
        }

        fn download(&self, _: &(), _: &mut [u8]) -> Result<(), GpuError> {
            Ok(())
        }

        fn addr(&self, _: &()) -> u64 {
            0
        }

        fn launch(&self, _: Kernel, _: Grid, _: Args) -> Result<(), GpuError> {
            Ok(())
        }

        fn synchronize(&self) -> Result<(), GpuError> {
            Ok(())
        }
    }

    /// The frame's visible pixels, plane after plane.
    fn pixels(frame: &VideoFrame) -> Vec<u8> {
        (0..3)
            .flat_map(|i| {
                let (w, h, s) = (frame.plane_width(i), frame.plane_height(i), frame.stride(i));
                (0..h).flat_map(move |y| frame.plane(i)[y * s..][..w].to_vec())
            })
            .collect()
    }

    #[test]
    fn a_gpu_that_fails_leaves_the_segment_to_the_cpu_steps_and_says_so_once() {
        let mut frame = VideoFrame::black(64, 48).unwrap();
        let stride = frame.stride(0);
        for (i, p) in frame.plane_mut(0).iter_mut().enumerate() {
            *p = ((i % stride) * 3 + i / stride) as u8;
        }
        let fitter = || Fitter::new(64, 48, 128, 72, FitMode::Pad, [0, 0, 0]).unwrap();
        let said = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = said.clone();
        let log: LogSink = Arc::new(move |l: &LogLine<'_>| {
            sink.lock().unwrap().push(l.message.to_string());
        });
        let mut run = Run::new(
            Broken,
            vec![DeviceStep::Fit(fitter())],
            "steps[0]".into(),
            log,
        );
        let want = pixels(&fitter().fit(frame.clone()).unwrap());
        for _ in 0..3 {
            let Ok(got) = run.run(frame.clone()) else {
                panic!("the run failed instead of falling back to the CPU");
            };
            assert_eq!((got.width(), got.height()), (128, 72));
            assert_eq!(pixels(&got), want, "the CPU's fit");
        }
        let said = said.lock().unwrap();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("steps[0]: the GPU failed (invalid GPU operation: out of memory"),
            "{}",
            said[0]
        );
    }
}
