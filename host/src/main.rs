//! The `framejet` command.

fn main() -> std::process::ExitCode {
    bound_heap_growth();
    framejet::cli::main()
}

/// Frame buffers are large and short-lived. glibc raises its mmap threshold
/// each time such a buffer is freed, after which frames come from the heap
/// arenas of the many decoder and encoder threads and fragment them, so a
/// long job's memory grows with its length. A fixed threshold keeps every
/// frame buffer mmapped and returned to the system when freed.
fn bound_heap_growth() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before any
    // thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
    }
}
