//! Finding the GPUs this process may use, and what each can do.
//!
//! CUDA is loaded at run time (cudarc's dynamic loading), so one binary serves machines with
//! and without it. cudarc panics when a library it needs cannot be loaded; every entry point
//! here first checks that the library loads, and turns its absence into [`NoGpu`] with the
//! reason, so "no GPU" is a plain state, never a crash.
//!
//! `CUDA_VISIBLE_DEVICES` is applied by the driver itself: ordinals here count the visible
//! GPUs only. A worker's `--gpu ID` picks one of them ([`select`]).

use std::panic::{AssertUnwindSafe, catch_unwind};

use cudarc::driver::{CudaContext, DriverError, result, sys};
use serde::Serialize;

/// Why this process has no GPU to use.
#[derive(Debug, thiserror::Error)]
pub enum NoGpu {
    /// libcuda could not be loaded: no NVIDIA driver here.
    #[error(
        "no NVIDIA driver: the CUDA driver library (libcuda.so.1) is not installed or not on the loader's path"
    )]
    NoDriver,
    /// `CUDA_VISIBLE_DEVICES` hides every GPU.
    #[error("CUDA_VISIBLE_DEVICES={0:?} hides every GPU")]
    Hidden(String),
    /// The driver loaded but would not start (a driver/kernel-module mismatch, no device node).
    #[error("the CUDA driver failed to start: {0}")]
    Init(#[source] DriverError),
    /// The driver started and sees no GPU.
    #[error("the CUDA driver sees no GPU")]
    NoDevice,
    /// `--gpu ID` names a GPU that is not there.
    #[error("GPU {requested} was asked for, but {count} GPU(s) are visible (ordinals 0..{count})")]
    NoSuchGpu { requested: usize, count: usize },
    /// A driver call failed while reading a GPU's properties.
    #[error("GPU {ordinal}: {what} failed: {source}")]
    Query {
        ordinal: usize,
        what: &'static str,
        #[source]
        source: DriverError,
    },
    /// The driver library lacks a function this build calls (a driver older than CUDA 12).
    #[error("the CUDA driver is too old or incompatible: {0}")]
    Incompatible(String),
}

/// Whether a video engine (NVDEC, NVENC) can be used, and why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Engine {
    pub available: bool,
    /// What was found: sessions supported, or the reason it cannot open.
    pub detail: String,
}

impl Engine {
    fn yes(detail: impl Into<String>) -> Self {
        Self {
            available: true,
            detail: detail.into(),
        }
    }

    fn no(detail: impl Into<String>) -> Self {
        Self {
            available: false,
            detail: detail.into(),
        }
    }
}

/// One visible GPU.
#[derive(Clone, Debug, Serialize)]
pub struct GpuInfo {
    /// Ordinal among the visible GPUs (what `--gpu` takes).
    pub ordinal: usize,
    pub name: String,
    /// The GPU's UUID (`GPU-…`), stable across `CUDA_VISIBLE_DEVICES` orderings.
    pub uuid: String,
    pub memory_total: u64,
    pub memory_free: u64,
    /// CUDA compute capability (major, minor).
    pub compute_capability: (u32, u32),
    pub multiprocessors: u32,
    /// The driver's CUDA version (major, minor).
    pub driver_cuda: (u32, u32),
    /// H.264 decoding on NVDEC (the decoder's capability query).
    pub nvdec: Engine,
    /// Whether the NVENC library is installed. Data-centre GPUs (H100, H200) have the library
    /// but no encoder; whether a session opens is known only by opening one (the host does).
    pub nvenc_library: Engine,
    /// Whether NVRTC (the run-time CUDA compiler the kernels need) loads.
    pub nvrtc: Engine,
}

/// Every visible GPU, or why there is none.
pub fn discover() -> Result<Vec<GpuInfo>, NoGpu> {
    let count = device_count()?;
    (0..count).map(query).collect()
}

/// The GPU `--gpu` names (the first one when `None`).
pub fn select(gpu: Option<usize>) -> Result<GpuInfo, NoGpu> {
    let count = device_count()?;
    let ordinal = gpu.unwrap_or(0);
    if ordinal >= count {
        return Err(NoGpu::NoSuchGpu {
            requested: ordinal,
            count,
        });
    }
    query(ordinal)
}

/// How many GPUs the driver shows, after checking that it loads and starts.
pub fn device_count() -> Result<usize, NoGpu> {
    if let Ok(visible) = std::env::var("CUDA_VISIBLE_DEVICES") {
        let v = visible.trim();
        if v.is_empty() || v == "-1" || v.eq_ignore_ascii_case("none") {
            return Err(NoGpu::Hidden(visible));
        }
    }
    // SAFETY: only tries to open the library (no symbol is called).
    if !unsafe { sys::is_culib_present() } {
        return Err(NoGpu::NoDriver);
    }
    guarded(|| {
        result::init().map_err(NoGpu::Init)?;
        let n = result::device::get_count().map_err(NoGpu::Init)?;
        match usize::try_from(n) {
            Ok(0) | Err(_) => Err(NoGpu::NoDevice),
            Ok(n) => Ok(n),
        }
    })
}

/// Runs driver calls, turning cudarc's panic on a missing symbol into [`NoGpu::Incompatible`].
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, NoGpu>) -> Result<T, NoGpu> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a driver call panicked".into());
        Err(NoGpu::Incompatible(message))
    })
}

fn query(ordinal: usize) -> Result<GpuInfo, NoGpu> {
    guarded(|| {
        let q = |what: &'static str| {
            move |source| NoGpu::Query {
                ordinal,
                what,
                source,
            }
        };
        let ctx = CudaContext::new(ordinal).map_err(q("creating a context"))?;
        let (free, total) = ctx.mem_get_info().map_err(q("reading free memory"))?;
        let (major, minor) = ctx
            .compute_capability()
            .map_err(q("reading the compute capability"))?;
        let sms = ctx
            .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
            .map_err(q("reading the multiprocessor count"))?;
        let uuid = ctx.uuid().map_err(q("reading the UUID"))?;
        let mut version = 0;
        // SAFETY: a plain out-parameter call on a loaded, initialised driver.
        unsafe { sys::cuDriverGetVersion(&mut version) }
            .result()
            .map_err(q("reading the driver version"))?;
        Ok(GpuInfo {
            ordinal,
            name: ctx.name().map_err(q("reading the name"))?,
            uuid: format_uuid(&uuid.bytes),
            memory_total: total as u64,
            memory_free: free as u64,
            compute_capability: (major as u32, minor as u32),
            multiprocessors: sms as u32,
            driver_cuda: ((version / 1000) as u32, (version % 1000 / 10) as u32),
            nvdec: nvdec_h264(&ctx),
            nvenc_library: library("libnvidia-encode.so.1")
                .map_or_else(Engine::no, |_| Engine::yes("libnvidia-encode.so.1 loads")),
            nvrtc: nvrtc(),
        })
    })
}

fn format_uuid(bytes: &[std::ffi::c_char; 16]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{:02x}", *b as u8)).collect();
    format!(
        "GPU-{}-{}-{}-{}-{}",
        hex[0..4].concat(),
        hex[4..6].concat(),
        hex[6..8].concat(),
        hex[8..10].concat(),
        hex[10..16].concat()
    )
}

fn library(name: &str) -> Result<libloading::Library, String> {
    // SAFETY: loading NVIDIA's libraries runs no initialisers with preconditions.
    unsafe { libloading::Library::new(name) }.map_err(|e| format!("{name} does not load: {e}"))
}

/// Whether NVRTC loads, with its version.
pub fn nvrtc() -> Engine {
    // SAFETY: only tries to open the library.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Engine::no("libnvrtc.so is not installed or not on the loader's path");
    }
    let version = guarded(|| {
        let (mut major, mut minor) = (0, 0);
        // SAFETY: two out-parameters; the library is loaded.
        unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) }
            .result()
            .map(|()| (major, minor))
            .map_err(|e| NoGpu::Incompatible(format!("nvrtcVersion: {e:?}")))
    });
    match version {
        Ok((major, minor)) => Engine::yes(format!("NVRTC {major}.{minor}")),
        Err(e) => Engine::no(e.to_string()),
    }
}

/// `CUVIDDECODECAPS` (nvcuvid.h): the fields read here, then room for the rest.
#[repr(C)]
#[allow(dead_code)] // written by the driver; only some fields are read
struct DecodeCaps {
    codec: i32,
    chroma_format: i32,
    bit_depth_minus8: u32,
    reserved1: [u32; 3],
    supported: u8,
    num_nvdecs: u8,
    output_format_mask: u16,
    max_width: u32,
    max_height: u32,
    rest: [u32; 32],
}

/// Asks NVDEC whether it decodes 8-bit 4:2:0 H.264 on the GPU of `ctx`.
fn nvdec_h264(ctx: &CudaContext) -> Engine {
    const CODEC_H264: i32 = 4;
    const CHROMA_420: i32 = 1;
    let lib = match library("libnvcuvid.so.1") {
        Ok(lib) => lib,
        Err(e) => return Engine::no(e),
    };
    type GetCaps = unsafe extern "C" fn(*mut DecodeCaps) -> i32;
    // SAFETY: the symbol has this signature in every nvcuvid since CUDA 8.
    let get_caps = match unsafe { lib.get::<GetCaps>(b"cuvidGetDecoderCaps\0") } {
        Ok(f) => f,
        Err(e) => return Engine::no(format!("cuvidGetDecoderCaps missing: {e}")),
    };
    if let Err(e) = ctx.bind_to_thread() {
        return Engine::no(format!("cannot make the context current: {e}"));
    }
    let mut caps = DecodeCaps {
        codec: CODEC_H264,
        chroma_format: CHROMA_420,
        bit_depth_minus8: 0,
        reserved1: [0; 3],
        supported: 0,
        num_nvdecs: 0,
        output_format_mask: 0,
        max_width: 0,
        max_height: 0,
        rest: [0; 32],
    };
    // SAFETY: `caps` is a zeroed CUVIDDECODECAPS with room to spare; a context is current.
    let status = unsafe { get_caps(&mut caps) };
    match (status, caps.supported) {
        (0, 0) => Engine::no("NVDEC does not decode H.264 on this GPU"),
        (0, _) => Engine::yes(format!(
            "{} NVDEC engine(s), H.264 up to {}x{}",
            caps.num_nvdecs, caps.max_width, caps.max_height
        )),
        (code, _) => Engine::no(format!("cuvidGetDecoderCaps failed (CUresult {code})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_devices_are_reported_not_probed() {
        // SAFETY (test): no other test in this binary reads the variable concurrently.
        unsafe { std::env::set_var("CUDA_VISIBLE_DEVICES", "") };
        let err = device_count().unwrap_err();
        unsafe { std::env::remove_var("CUDA_VISIBLE_DEVICES") };
        assert!(matches!(err, NoGpu::Hidden(_)), "{err}");
        assert!(err.to_string().contains("CUDA_VISIBLE_DEVICES"));
    }

    #[test]
    fn uuids_print_as_nvidia_smi_does() {
        let bytes: [std::ffi::c_char; 16] = std::array::from_fn(|i| (i * 17) as u8 as _);
        assert_eq!(
            format_uuid(&bytes),
            "GPU-00112233-4455-6677-8899-aabbccddeeff"
        );
    }
}
