//! framejet's GPU path: finding NVIDIA GPUs and running the CUDA twins of the per-pixel
//! kernels of `framejet-media` (compositing, `fit`) and `framejet-inpaint` (blend inversion,
//! temporal and spatial fill).
//!
//! - [`discover()`] / [`select`]: what GPUs this process may use, or why none ([`NoGpu`]). CUDA
//!   is loaded at run time, so the same binary runs where it is not installed.
//! - The kernels are CUDA C in `kernels/`, compiled once per process with NVRTC ([`Gpu`]) and
//!   launched on one [`GpuStream`] per segment, with device memory pooled per stream.
//! - Every operation is written once against [`Backend`]; [`Emulated`] runs the same kernel
//!   sources compiled for the CPU, which is how the tests check them against their Rust twins
//!   on machines without a GPU, and what the GPU is checked against where there is one.
//!
//! This crate links neither FFmpeg nor wasmtime: its tests and the kernel benchmark
//! (`bench/gpu`) run on a bare CUDA machine.

mod backend;
mod composite;
mod device;
mod discover;
mod emulate;
mod error;
mod fit;
mod frame;
mod inpaint;
mod slots;

pub use backend::{Args, Backend, Grid, Kernel, bytes_of, f32s_of};
pub use composite::{DeviceImage, blend, fill_rect};
pub use device::{DeviceBuffer, Gpu, GpuStream};
pub use discover::{Engine, GpuInfo, NoGpu, device_count, discover, nvrtc, select};
pub use emulate::{Emulated, HostBuffer};
pub use error::GpuError;
pub use fit::{DeviceFit, FitPlacement};
pub use frame::{DeviceFrame, DevicePlane};
pub use inpaint::{
    DeviceHoles, DeviceInversion, DeviceSource, DeviceTaps, InpaintDevice, SpatialFill,
    temporal_fill, temporal_fill_at,
};
pub use slots::{segment_bytes, segments_that_fit};
