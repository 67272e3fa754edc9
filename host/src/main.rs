//! The `framejet` command.

fn main() -> std::process::ExitCode {
    bound_heap_growth();
    quiet_svt_av1();
    framejet::cli::main()
}

/// SVT-AV1 prints its banner and settings to stderr itself, past FFmpeg's
/// log; `SVT_LOG=1` keeps it to errors, unless the user chose a level.
fn quiet_svt_av1() {
    if std::env::var_os("SVT_LOG").is_none() {
        // SAFETY: no other thread exists yet to read the environment.
        unsafe { std::env::set_var("SVT_LOG", "1") };
    }
}

/// glibc raises its mmap threshold each time a large buffer is freed, after
/// which every frame-sized buffer comes from the heap arenas of the many
/// decoder and encoder threads and fragments them, so a long job's memory
/// grows with its length. A fixed threshold stops that drift. It sits above
/// a 1080p frame (3 MB) and a lossless packet: below it, every such buffer
/// would be a fresh mapping whose pages the kernel zeroes on each use, which
/// cost a lossless 1080p job a fifth of its time. The frames that churn
/// (scaled, inpainted) are pooled and recycled, so what stays on the heap is
/// reused rather than piled up.
///
/// Freed memory at the top of a heap goes back to the kernel past glibc's
/// trim threshold, 128 KB once the mmap threshold is fixed: the buffers a
/// step makes for each frame (a few hundred KB) were handed back and faulted
/// in again, zeroed, on every frame. A threshold of 32 MB keeps a few frames'
/// worth of such memory for reuse.
///
/// glibc also gives each new thread an arena of its own, up to eight per
/// core, and keeps what each one freed. A worker runs every segment on
/// fresh decoder, encoder and blocking-pool threads, so each segment of a
/// long job touched a new arena and the worker grew by tens of MB a
/// segment; one arena per core keeps its memory where the first segments
/// put it.
fn bound_heap_growth() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = i32::try_from(cores.max(2)).unwrap_or(i32::MAX);
        // SAFETY: mallopt only changes allocator tuning; it is called
        // before any thread starts.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
