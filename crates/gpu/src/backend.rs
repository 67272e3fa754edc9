//! Where the kernels run: a [`Backend`] allocates buffers, copies to and from them and launches
//! kernels by name with CUDA's calling convention (an array of pointers to the argument
//! values). [`GpuStream`](crate::GpuStream) runs them on a GPU; [`Emulated`](crate::Emulated) runs the same sources
//! compiled for the CPU, which is how tests and benchmarks check them where no GPU is.
//! The operations in `ops` are written once against this trait.

use std::ffi::c_void;

use crate::error::GpuError;

/// The kernels in `kernels/*.cu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Invert,
    TemporalFill,
    FillPull,
    FillUpsample,
    FillRelax,
    BlendLuma,
    BlendChromaBlock,
    FillRectLuma,
    FillRectChroma,
    ScaleRows,
    ScaleColumns,
    FillOutside,
    AverageRows,
    AverageColumns,
    AverageSampled,
}

impl Kernel {
    pub const ALL: [Kernel; 15] = [
        Kernel::Invert,
        Kernel::TemporalFill,
        Kernel::FillPull,
        Kernel::FillUpsample,
        Kernel::FillRelax,
        Kernel::BlendLuma,
        Kernel::BlendChromaBlock,
        Kernel::FillRectLuma,
        Kernel::FillRectChroma,
        Kernel::ScaleRows,
        Kernel::ScaleColumns,
        Kernel::FillOutside,
        Kernel::AverageRows,
        Kernel::AverageColumns,
        Kernel::AverageSampled,
    ];

    /// The kernel's name in the CUDA sources.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Invert => "fj_invert",
            Kernel::TemporalFill => "fj_temporal_fill",
            Kernel::FillPull => "fj_fill_pull",
            Kernel::FillUpsample => "fj_fill_upsample",
            Kernel::FillRelax => "fj_fill_relax",
            Kernel::BlendLuma => "fj_blend_luma",
            Kernel::BlendChromaBlock => "fj_blend_chroma_block",
            Kernel::FillRectLuma => "fj_fill_rect_luma",
            Kernel::FillRectChroma => "fj_fill_rect_chroma",
            Kernel::ScaleRows => "fj_scale_rows",
            Kernel::ScaleColumns => "fj_scale_columns",
            Kernel::FillOutside => "fj_fill_outside",
            Kernel::AverageRows => "fj_average_rows",
            Kernel::AverageColumns => "fj_average_columns",
            Kernel::AverageSampled => "fj_average_sampled",
        }
    }
}

/// The kernel sources as one NVRTC program: the prelude, then each file.
pub const SOURCE: &str = concat!(
    include_str!("../kernels/prelude.cuh"),
    include_str!("../kernels/inpaint.cu"),
    include_str!("../kernels/composite.cu"),
    include_str!("../kernels/fit.cu"),
);

/// A kernel's arguments, in order, each kept in an 8-byte slot whose address the launch takes
/// (CUDA reads `int`, `unsigned`, `float` and pointer parameters from the slot's first bytes).
#[derive(Default)]
pub struct Args {
    slots: Vec<u64>,
}

#[cfg(not(target_endian = "little"))]
compile_error!("kernel arguments are packed for little-endian hosts");

impl Args {
    pub fn new() -> Self {
        Self::default()
    }

    /// A device (or, emulated, host) address: a pointer parameter.
    pub fn ptr(mut self, addr: u64) -> Self {
        self.slots.push(addr);
        self
    }

    pub fn i32(mut self, v: i32) -> Self {
        self.slots.push(u64::from(v as u32));
        self
    }

    pub fn u32(mut self, v: u32) -> Self {
        self.slots.push(u64::from(v));
        self
    }

    pub fn f32(mut self, v: f32) -> Self {
        self.slots.push(u64::from(v.to_bits()));
        self
    }

    /// The pointers to each slot, as `cuLaunchKernel` takes them. Valid while `self` is.
    pub fn pointers(&mut self) -> Vec<*mut c_void> {
        self.slots
            .iter_mut()
            .map(|s| (s as *mut u64).cast::<c_void>())
            .collect()
    }
}

/// A launch's shape: a 2-D grid of 2-D blocks covering `width` x `height` elements.
#[derive(Clone, Copy, Debug)]
pub struct Grid {
    pub blocks: [u32; 2],
    pub threads: [u32; 2],
}

impl Grid {
    /// 32x8 threads per block (one warp wide along rows).
    pub fn cover(width: usize, height: usize) -> Grid {
        let threads = [32u32, 8];
        Grid {
            blocks: [
                (width as u32).div_ceil(threads[0]).max(1),
                (height as u32).div_ceil(threads[1]).max(1),
            ],
            threads,
        }
    }

    /// 256 threads per block over `n` elements in a line.
    pub fn line(n: usize) -> Grid {
        Grid {
            blocks: [(n as u32).div_ceil(256).max(1), 1],
            threads: [256, 1],
        }
    }
}

/// Runs kernels: a GPU, or the host emulation.
pub trait Backend {
    type Buffer: Send;

    /// A buffer of `bytes` bytes (contents unspecified), from the backend's pool.
    fn alloc(&self, bytes: usize) -> Result<Self::Buffer, GpuError>;
    /// Copies `src` into the start of `dst`.
    fn upload(&self, dst: &mut Self::Buffer, src: &[u8]) -> Result<(), GpuError>;
    /// Copies the start of `src` into `dst`, after every launch before it has finished.
    fn download(&self, src: &Self::Buffer, dst: &mut [u8]) -> Result<(), GpuError>;
    /// The buffer's address, for [`Args::ptr`].
    fn addr(&self, buf: &Self::Buffer) -> u64;
    /// Launches `kernel` over `grid` with `args` (queued: it may finish later).
    fn launch(&self, kernel: Kernel, grid: Grid, args: Args) -> Result<(), GpuError>;
    /// Waits for everything queued.
    fn synchronize(&self) -> Result<(), GpuError>;

    /// A buffer holding a copy of `src`.
    fn upload_new(&self, src: &[u8]) -> Result<Self::Buffer, GpuError> {
        let mut buf = self.alloc(src.len())?;
        self.upload(&mut buf, src)?;
        Ok(buf)
    }
}

/// The bytes of plain numbers (`f32`, `u32`), for uploads.
pub fn bytes_of<T: Plain>(values: &[T]) -> &[u8] {
    // SAFETY: `Plain` types have no padding and every byte is initialised.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
}

/// Numbers read back from bytes (native endianness).
pub fn f32s_of(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Types whose values are plain bytes: no padding, any bit pattern valid.
pub trait Plain: Copy {}
impl Plain for f32 {}
impl Plain for u32 {}
impl Plain for i32 {}
impl Plain for u8 {}
impl Plain for u16 {}
