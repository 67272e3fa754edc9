//! The GPU path's errors. None of them is the input's fault: a job that hits one can run
//! again on the CPU path or on another worker.

use cudarc::driver::DriverError;

use crate::discover::NoGpu;

/// What went wrong on the GPU path.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No GPU to run on (see [`NoGpu`] for why).
    #[error("no GPU: {0}")]
    NoGpu(#[from] NoGpu),
    /// NVRTC is missing or rejected the kernel sources.
    #[error("compiling the CUDA kernels failed: {0}")]
    Compile(String),
    /// A driver call failed (out of memory, a launch error, a lost device).
    #[error("{what} failed on the GPU: {source}")]
    Driver {
        what: &'static str,
        #[source]
        source: DriverError,
    },
    /// Arguments that do not describe the buffers given (a caller's bug, not the input's).
    #[error("invalid GPU operation: {0}")]
    Invalid(String),
}

impl GpuError {
    pub(crate) fn driver(what: &'static str) -> impl FnOnce(DriverError) -> GpuError {
        move |source| GpuError::Driver { what, source }
    }
}
