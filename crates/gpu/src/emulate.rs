//! [`Emulated`]: the CUDA kernel sources compiled for the CPU (build.rs, kernels/host.cpp) and
//! run one thread after another. Slow, and not a production path: it lets the tests check the
//! kernels' arithmetic against their Rust twins on machines without a GPU, and gives the GPU
//! tests a second reference built from the very same source.

use std::ffi::c_void;

use crate::backend::{Args, Backend, Grid, Kernel};
use crate::error::GpuError;

#[repr(C)]
struct Dim3 {
    x: u32,
    y: u32,
    z: u32,
}

type Launcher = unsafe extern "C" fn(Dim3, Dim3, *mut *mut c_void);

unsafe extern "C" {
    fn fj_invert_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_temporal_fill_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_fill_pull_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_fill_upsample_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_fill_relax_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_blend_luma_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_blend_chroma_block_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_fill_rect_luma_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_fill_rect_chroma_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_scale_rows_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_scale_columns_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_fill_outside_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_average_rows_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_average_columns_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
    fn fj_average_sampled_emulated(grid: Dim3, block: Dim3, args: *mut *mut c_void);
}

fn launcher(kernel: Kernel) -> Launcher {
    match kernel {
        Kernel::Invert => fj_invert_emulated,
        Kernel::TemporalFill => fj_temporal_fill_emulated,
        Kernel::FillPull => fj_fill_pull_emulated,
        Kernel::FillUpsample => fj_fill_upsample_emulated,
        Kernel::FillRelax => fj_fill_relax_emulated,
        Kernel::BlendLuma => fj_blend_luma_emulated,
        Kernel::BlendChromaBlock => fj_blend_chroma_block_emulated,
        Kernel::FillRectLuma => fj_fill_rect_luma_emulated,
        Kernel::FillRectChroma => fj_fill_rect_chroma_emulated,
        Kernel::ScaleRows => fj_scale_rows_emulated,
        Kernel::ScaleColumns => fj_scale_columns_emulated,
        Kernel::FillOutside => fj_fill_outside_emulated,
        Kernel::AverageRows => fj_average_rows_emulated,
        Kernel::AverageColumns => fj_average_columns_emulated,
        Kernel::AverageSampled => fj_average_sampled_emulated,
    }
}

/// The kernels on the CPU, one thread at a time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Emulated;

/// Host memory standing in for device memory: 8-byte aligned, reached only through its
/// address (kernels write through it), freed on drop.
pub struct HostBuffer {
    words: *mut u64,
    len: usize,
}

// SAFETY: the buffer owns its allocation; nothing else holds the pointer beyond a launch.
unsafe impl Send for HostBuffer {}

impl Drop for HostBuffer {
    fn drop(&mut self) {
        // SAFETY: `words` came from `Box::into_raw` of a slice of `len.div_ceil(8)` words.
        drop(unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                self.words,
                self.len.div_ceil(8),
            ))
        });
    }
}

impl Backend for Emulated {
    type Buffer = HostBuffer;

    fn alloc(&self, bytes: usize) -> Result<HostBuffer, GpuError> {
        let words = Box::into_raw(vec![0u64; bytes.div_ceil(8)].into_boxed_slice());
        Ok(HostBuffer {
            words: words.cast::<u64>(),
            len: bytes,
        })
    }

    fn upload(&self, dst: &mut HostBuffer, src: &[u8]) -> Result<(), GpuError> {
        if src.len() > dst.len {
            return Err(GpuError::Invalid(format!(
                "upload of {} bytes into a {}-byte buffer",
                src.len(),
                dst.len
            )));
        }
        // SAFETY: `dst` has room for `src` (checked); the regions do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.words.cast::<u8>(), src.len()) };
        Ok(())
    }

    fn download(&self, src: &HostBuffer, dst: &mut [u8]) -> Result<(), GpuError> {
        if dst.len() > src.len {
            return Err(GpuError::Invalid(format!(
                "download of {} bytes from a {}-byte buffer",
                dst.len(),
                src.len
            )));
        }
        // SAFETY: `src` holds at least `dst.len()` bytes (checked).
        unsafe {
            std::ptr::copy_nonoverlapping(src.words.cast::<u8>(), dst.as_mut_ptr(), dst.len())
        };
        Ok(())
    }

    fn addr(&self, buf: &HostBuffer) -> u64 {
        buf.words as u64
    }

    fn launch(&self, kernel: Kernel, grid: Grid, mut args: Args) -> Result<(), GpuError> {
        let mut pointers = args.pointers();
        let dim = |v: [u32; 2]| Dim3 {
            x: v[0],
            y: v[1],
            z: 1,
        };
        // SAFETY: the operations in `ops` pass each kernel the parameters its source declares,
        // with addresses of live buffers large enough for the grid they launch.
        unsafe { launcher(kernel)(dim(grid.blocks), dim(grid.threads), pointers.as_mut_ptr()) };
        Ok(())
    }

    fn synchronize(&self) -> Result<(), GpuError> {
        Ok(())
    }
}
