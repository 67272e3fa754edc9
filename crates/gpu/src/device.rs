//! [`Gpu`]: one CUDA device ready to run the kernels, and [`GpuStream`], the [`Backend`] a
//! segment runs its kernels on.
//!
//! - The kernel sources are compiled once per process with NVRTC (`--fmad=false`, so floats
//!   round as in the CPU twins) and the PTX is kept; each device loads it once.
//! - Each segment gets its own stream, so segments on one GPU overlap.
//! - Device memory comes from a pool per stream: a buffer returns to it when dropped and is
//!   handed out again for the next request of the same size on that stream (a segment asks
//!   for the same sizes every frame), so the steady state allocates nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{CudaContext, result, sys};
use cudarc::nvrtc::{CompileOptions, compile_ptx_with_opts};

use crate::backend::{Args, Backend, Grid, Kernel, SOURCE};
use crate::discover::{self, GpuInfo, NoGpu, guarded};
use crate::error::GpuError;

/// The kernels as PTX, compiled on first use and shared by every device of the process.
fn ptx() -> Result<&'static str, GpuError> {
    static PTX: OnceLock<Result<String, String>> = OnceLock::new();
    PTX.get_or_init(|| {
        if !discover::nvrtc().available {
            return Err("libnvrtc.so (NVRTC) is not installed or not on the loader's path".into());
        }
        let options = CompileOptions {
            fmad: Some(false),
            name: Some("framejet_kernels.cu".into()),
            ..Default::default()
        };
        let compiled = std::panic::catch_unwind(|| compile_ptx_with_opts(SOURCE, options));
        match compiled {
            Ok(Ok(ptx)) => Ok(ptx.to_src()),
            Ok(Err(e)) => Err(format!("{e:?}")),
            Err(_) => Err("NVRTC panicked (an incompatible libnvrtc?)".into()),
        }
    })
    .as_ref()
    .map(String::as_str)
    .map_err(|e| GpuError::Compile(e.clone()))
}

/// One CUDA device with the kernels loaded.
pub struct Gpu {
    info: GpuInfo,
    ctx: Arc<CudaContext>,
    module: sys::CUmodule,
    functions: HashMap<Kernel, sys::CUfunction>,
    /// Device memory held by this process's streams (in use or pooled), in bytes.
    held: AtomicUsize,
}

// SAFETY: module and function handles are valid in any thread that makes the context current,
// which every method does first.
unsafe impl Send for Gpu {}
unsafe impl Sync for Gpu {}

impl Gpu {
    /// Opens GPU `ordinal` (the first when `None`) and loads the kernels, compiling them on the
    /// first call of the process.
    pub fn open(ordinal: Option<usize>) -> Result<Arc<Gpu>, GpuError> {
        let info = discover::select(ordinal)?;
        let ptx = ptx()?;
        let opened = guarded(|| {
            let ctx = CudaContext::new(info.ordinal).map_err(|source| NoGpu::Query {
                ordinal: info.ordinal,
                what: "creating a context",
                source,
            })?;
            Ok(ctx)
        })?;
        opened
            .bind_to_thread()
            .map_err(GpuError::driver("making the context current"))?;
        let image = std::ffi::CString::new(ptx)
            .map_err(|_| GpuError::Compile("the PTX holds a NUL byte".into()))?;
        // SAFETY: `image` is NUL-terminated PTX text; the context is current.
        let module = unsafe { result::module::load_data(image.as_ptr().cast()) }
            .map_err(GpuError::driver("loading the kernels"))?;
        let mut functions = HashMap::new();
        for kernel in Kernel::ALL {
            let name = std::ffi::CString::new(kernel.name())
                .map_err(|_| GpuError::Invalid("a kernel name holds a NUL byte".into()))?;
            // SAFETY: `module` was loaded above, in this context.
            let f = unsafe { result::module::get_function(module, name) }
                .map_err(GpuError::driver("finding a kernel"))?;
            functions.insert(kernel, f);
        }
        Ok(Arc::new(Gpu {
            info,
            ctx: opened,
            module,
            functions,
            held: AtomicUsize::new(0),
        }))
    }

    /// What discovery found about this GPU.
    pub fn info(&self) -> &GpuInfo {
        &self.info
    }

    /// A stream of its own, for one segment's work.
    pub fn stream(self: &Arc<Self>) -> Result<GpuStream, GpuError> {
        self.bind()?;
        let stream = result::stream::create(result::stream::StreamKind::NonBlocking)
            .map_err(GpuError::driver("creating a stream"))?;
        Ok(GpuStream {
            inner: Arc::new(StreamInner {
                gpu: Arc::clone(self),
                stream,
                free: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Device memory this process holds (in use or pooled), in bytes.
    pub fn memory_held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    fn bind(&self) -> Result<(), GpuError> {
        self.ctx
            .bind_to_thread()
            .map_err(GpuError::driver("making the context current"))
    }
}

impl Drop for Gpu {
    fn drop(&mut self) {
        if self.bind().is_ok() {
            // SAFETY: every function handle dies with `self`; no stream outlives it (each
            // holds an `Arc<Gpu>`).
            let _ = unsafe { result::module::unload(self.module) };
        }
    }
}

/// A stream and the device memory freed on it, ready to hand out again. Buffers are reused
/// only on the stream that freed them: its queue orders the old work before the new.
struct StreamInner {
    gpu: Arc<Gpu>,
    stream: sys::CUstream,
    free: Mutex<HashMap<usize, Vec<sys::CUdeviceptr>>>,
}

// SAFETY: a stream handle may be used from any thread with its context current; the pool is
// behind a mutex.
unsafe impl Send for StreamInner {}
unsafe impl Sync for StreamInner {}

impl StreamInner {
    fn take(&self, bytes: usize) -> Result<sys::CUdeviceptr, GpuError> {
        let bytes = bytes.max(1);
        if let Ok(mut free) = self.free.lock()
            && let Some(ptr) = free.get_mut(&bytes).and_then(Vec::pop)
        {
            return Ok(ptr);
        }
        self.gpu.bind()?;
        // SAFETY: a plain allocation in the current context.
        let ptr = unsafe { result::malloc_sync(bytes) }
            .map_err(GpuError::driver("allocating device memory"))?;
        self.gpu.held.fetch_add(bytes, Ordering::Relaxed);
        Ok(ptr)
    }

    fn give_back(&self, ptr: sys::CUdeviceptr, bytes: usize) {
        if let Ok(mut free) = self.free.lock() {
            free.entry(bytes.max(1)).or_default().push(ptr);
        }
    }
}

impl Drop for StreamInner {
    fn drop(&mut self) {
        if self.gpu.bind().is_err() {
            return;
        }
        // SAFETY: no buffer of this stream is alive (each holds an `Arc` of it); once the
        // stream has drained, its pooled memory is unused.
        unsafe {
            let _ = result::stream::synchronize(self.stream);
            if let Ok(free) = self.free.get_mut() {
                for (bytes, ptrs) in free.iter() {
                    for ptr in ptrs {
                        let _ = result::free_sync(*ptr);
                        self.gpu.held.fetch_sub(*bytes, Ordering::Relaxed);
                    }
                }
            }
            let _ = result::stream::destroy(self.stream);
        }
    }
}

/// Device memory from a stream's pool, returned to it when dropped.
pub struct DeviceBuffer {
    owner: Arc<StreamInner>,
    ptr: sys::CUdeviceptr,
    len: usize,
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        self.owner.give_back(self.ptr, self.len);
    }
}

/// A CUDA stream on a [`Gpu`]: one segment's queue of copies and kernels.
pub struct GpuStream {
    inner: Arc<StreamInner>,
}

impl Backend for GpuStream {
    type Buffer = DeviceBuffer;

    fn alloc(&self, bytes: usize) -> Result<DeviceBuffer, GpuError> {
        Ok(DeviceBuffer {
            ptr: self.inner.take(bytes)?,
            owner: Arc::clone(&self.inner),
            len: bytes,
        })
    }
    fn upload(&self, dst: &mut DeviceBuffer, src: &[u8]) -> Result<(), GpuError> {
        if src.len() > dst.len {
            return Err(GpuError::Invalid(format!(
                "upload of {} bytes into a {}-byte buffer",
                src.len(),
                dst.len
            )));
        }
        self.inner.gpu.bind()?;
        // SAFETY: `dst` holds at least `src.len()` bytes; a copy from pageable memory returns
        // once `src` has been read, so `src` may go after the call.
        unsafe { result::memcpy_htod_async(dst.ptr, src, self.inner.stream) }
            .map_err(GpuError::driver("copying to the GPU"))
    }

    fn download(&self, src: &DeviceBuffer, dst: &mut [u8]) -> Result<(), GpuError> {
        if dst.len() > src.len {
            return Err(GpuError::Invalid(format!(
                "download of {} bytes from a {}-byte buffer",
                dst.len(),
                src.len
            )));
        }
        self.inner.gpu.bind()?;
        // SAFETY: `src` holds at least `dst.len()` bytes; the stream is synchronised before
        // `dst` is returned to the caller.
        unsafe {
            result::memcpy_dtoh_async(dst, src.ptr, self.inner.stream)
                .map_err(GpuError::driver("copying from the GPU"))?;
            result::stream::synchronize(self.inner.stream)
                .map_err(GpuError::driver("waiting for the GPU"))
        }
    }

    fn addr(&self, buf: &DeviceBuffer) -> u64 {
        buf.ptr
    }

    fn launch(&self, kernel: Kernel, grid: Grid, mut args: Args) -> Result<(), GpuError> {
        let f = *self
            .inner
            .gpu
            .functions
            .get(&kernel)
            .ok_or_else(|| GpuError::Invalid(format!("kernel {} not loaded", kernel.name())))?;
        self.inner.gpu.bind()?;
        let mut pointers = args.pointers();
        // SAFETY: the operations in `ops` pass each kernel the parameters its source declares,
        // with addresses of live buffers large enough for the grid; `args` outlives the call
        // (the driver copies parameter values at launch).
        unsafe {
            result::launch_kernel(
                f,
                (grid.blocks[0], grid.blocks[1], 1),
                (grid.threads[0], grid.threads[1], 1),
                0,
                self.inner.stream,
                &mut pointers,
            )
        }
        .map_err(GpuError::driver("launching a kernel"))
    }

    fn synchronize(&self) -> Result<(), GpuError> {
        self.inner.gpu.bind()?;
        // SAFETY: the stream is live.
        unsafe { result::stream::synchronize(self.inner.stream) }
            .map_err(GpuError::driver("waiting for the GPU"))
    }
}
