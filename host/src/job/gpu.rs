//! Which GPU a process's segments run their kernels on (`--gpu`, `FRAMEJET_GPU`), opened once
//! on first use and shared by every segment, each on a stream of its own.
//!
//! - `auto` (the default): the first visible GPU (`CUDA_VISIBLE_DEVICES` applies) when one
//!   opens with NVRTC, else the CPU;
//! - `off`: the CPU;
//! - a number: that GPU, among the visible ones;
//! - `emulate`: the CUDA kernel sources compiled for the CPU, run one thread at a time: slow,
//!   for checking the GPU path on a machine without a GPU.
//!
//! A job whose spec says `output.video.hw: cpu` stays on the CPU whatever this says.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use super::device_steps::{DeviceRun, DeviceStep, Run};
use super::spec::HwSpec;
use crate::plugin::LogSink;
use framejet_gpu::{Emulated, Gpu, InpaintDevice};
use framejet_inpaint::Kernels;

/// What `--gpu` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GpuChoice {
    #[default]
    Auto,
    Off,
    Ordinal(usize),
    Emulate,
}

impl FromStr for GpuChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" | "" => Ok(Self::Auto),
            "off" | "cpu" | "none" => Ok(Self::Off),
            "emulate" => Ok(Self::Emulate),
            n => n.parse().map(Self::Ordinal).map_err(|_| {
                format!("`{s}` is not a GPU choice: auto, off, emulate or a GPU number")
            }),
        }
    }
}

static CHOICE: OnceLock<GpuChoice> = OnceLock::new();
static OPENED: OnceLock<Result<Arc<Gpu>, String>> = OnceLock::new();

/// Sets the process's choice (once, at start-up; later calls are ignored).
pub fn configure(choice: GpuChoice) {
    let _ = CHOICE.set(choice);
}

fn choice() -> GpuChoice {
    *CHOICE.get_or_init(|| {
        std::env::var("FRAMEJET_GPU")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    })
}

/// The GPU this process uses, opened on first call, or why there is none.
pub fn gpu() -> Result<Arc<Gpu>, String> {
    OPENED
        .get_or_init(|| match choice() {
            GpuChoice::Off => Err("--gpu off".into()),
            GpuChoice::Emulate => Err("--gpu emulate".into()),
            GpuChoice::Auto => Gpu::open(None).map_err(|e| e.to_string()),
            GpuChoice::Ordinal(n) => Gpu::open(Some(n)).map_err(|e| e.to_string()),
        })
        .clone()
}

/// The GPU whose NVDEC a job whose spec asks for `hw` decodes on: the GPU in use, if any (the
/// decoder falls back to the CPU where NVDEC does not open or take the codec).
pub fn nvdec_device(hw: HwSpec) -> Option<usize> {
    if hw == HwSpec::Cpu || choice() == GpuChoice::Emulate {
        return None;
    }
    gpu().ok().map(|gpu| gpu.info().ordinal)
}

/// Whether this process runs work on a GPU (or emulates one).
pub fn in_use() -> bool {
    choice() == GpuChoice::Emulate || gpu().is_ok()
}

/// `steps` (a run of `fit` and overlay steps of a job whose spec asks for `hw`) as one run on
/// the GPU in use, or given back where the CPU runs them.
/// With the run, where it runs (for the job log).
pub(crate) fn device_run(
    hw: HwSpec,
    steps: Vec<DeviceStep>,
    name: String,
    log: LogSink,
) -> Result<(Box<dyn DeviceRun>, String), Vec<DeviceStep>> {
    if hw == HwSpec::Cpu {
        return Err(steps);
    }
    if choice() == GpuChoice::Emulate {
        let place = "the CUDA kernels emulated on the CPU (--gpu emulate)".to_string();
        return Ok((Box::new(Run::new(Emulated, steps, name, log)), place));
    }
    match gpu().and_then(|gpu| Ok((gpu.stream().map_err(|e| e.to_string())?, gpu))) {
        Ok((stream, gpu)) => {
            let place = format!("GPU {}: {}", gpu.info().ordinal, gpu.info().name);
            Ok((Box::new(Run::new(stream, steps, name, log)), place))
        }
        Err(_) => Err(steps),
    }
}

/// The inpaint kernels for one segment of a job whose spec asks for `hw`, and a line for the
/// job log saying where they run.
pub fn inpaint_kernels(hw: HwSpec) -> (Kernels, String) {
    if hw == HwSpec::Cpu {
        return (Kernels::Optimised, "kernels on the CPU (hw: cpu)".into());
    }
    if choice() == GpuChoice::Emulate {
        let device = InpaintDevice::new(Emulated, "the CUDA kernels emulated on the CPU");
        return (
            Kernels::Device(Arc::new(device)),
            "kernels: the CUDA kernels emulated on the CPU (--gpu emulate)".into(),
        );
    }
    let opened = gpu().and_then(|gpu| {
        let stream = gpu.stream().map_err(|e| e.to_string())?;
        let name = format!("GPU {}: {}", gpu.info().ordinal, gpu.info().name);
        Ok((InpaintDevice::new(stream, name.clone()), name))
    });
    match opened {
        Ok((device, name)) => (
            Kernels::Device(Arc::new(device)),
            format!("kernels on {name}"),
        ),
        Err(why) => (Kernels::Optimised, format!("kernels on the CPU ({why})")),
    }
}

/// What this machine's GPU (as `--gpu` picks it) adds to a worker or a local run.
pub struct GpuShare {
    /// Routed capabilities it brings: `gpu`, and `nvenc` where an H.264 NVENC encoder opens.
    pub capabilities: Vec<String>,
    /// 1080p segments its free memory holds at once (`None` without a GPU).
    pub slots: Option<usize>,
    /// One line for the log.
    pub summary: String,
}

/// Looks at the GPU once (opening it, and an NVENC encoder on a small picture).
pub fn share() -> GpuShare {
    match gpu() {
        Ok(gpu) => {
            let info = gpu.info();
            let slots = framejet_gpu::segments_that_fit(info, 1920, 1080);
            let mut capabilities = vec!["gpu".to_string()];
            let nvenc = framejet_media::nvenc_opens("h264");
            if nvenc.is_ok() {
                capabilities.push("nvenc".into());
            }
            let summary = format!(
                "GPU {}: {} ({} MiB free): room for {slots} 1080p segments; NVENC {}",
                info.ordinal,
                info.name,
                info.memory_free >> 20,
                match &nvenc {
                    Ok(name) => format!("opens ({name})"),
                    Err(e) => format!("does not open ({e}): encoding on the CPU"),
                }
            );
            GpuShare {
                capabilities,
                slots: Some(slots.max(1)),
                summary,
            }
        }
        Err(why) => GpuShare::none(why),
    }
}

impl GpuShare {
    /// No GPU, because of `why`.
    pub fn none(why: String) -> Self {
        GpuShare {
            capabilities: Vec::new(),
            slots: None,
            summary: format!("no GPU in use: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_explain_mistakes() {
        assert_eq!("auto".parse(), Ok(GpuChoice::Auto));
        assert_eq!("off".parse(), Ok(GpuChoice::Off));
        assert_eq!("1".parse(), Ok(GpuChoice::Ordinal(1)));
        assert_eq!("emulate".parse(), Ok(GpuChoice::Emulate));
        let err = "gpu1".parse::<GpuChoice>().unwrap_err();
        assert!(err.contains("auto, off, emulate"), "{err}");
    }
}
