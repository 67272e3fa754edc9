//! How many segments one GPU holds at once.
//!
//! A segment on the GPU holds, on its own stream: the crops its inpaint kernels work on and
//! their sources (a few frames' worth of the mark's box), the frames a decoder and an encoder
//! keep in flight when those run on the GPU (NVDEC surfaces, NVENC input and reference
//! frames), and the stream's pool. The table below bounds that by the frame's size, with
//! room for the decoder's and encoder's surfaces; the process's CUDA context and the kernels'
//! module are held once, and the headroom keeps the rest of the card for the driver and
//! other processes. `bench/gpu` prints the memory a benchmark stream held, which stays well
//! under these bounds.

use crate::discover::GpuInfo;

/// Frames' worth of device memory one segment may hold: decoder surfaces (up to 20 for
/// H.264/HEVC at their largest reference counts), encoder input and references (8), the
/// inpaint kernels' crops and sources (4).
const FRAMES_PER_SEGMENT: u64 = 32;
/// What a process holds once: the CUDA context and the kernels' module.
const PER_PROCESS: u64 = 512 << 20;
/// Left to the driver and anyone else on the card.
const HEADROOM: u64 = 1 << 30;

/// Device memory one segment of `width` x `height` (yuv420p) may hold, in bytes.
pub fn segment_bytes(width: u32, height: u32) -> u64 {
    let frame = u64::from(width) * u64::from(height) * 3 / 2;
    FRAMES_PER_SEGMENT * frame
}

/// Segments of `width` x `height` that fit in `gpu`'s free memory at once, with headroom
/// (at least 1 when any fits, 0 when none does).
pub fn segments_that_fit(gpu: &GpuInfo, width: u32, height: u32) -> usize {
    let usable = gpu.memory_free.saturating_sub(PER_PROCESS + HEADROOM);
    (usable / segment_bytes(width, height).max(1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Engine;

    fn card(free_gib: u64) -> GpuInfo {
        let engine = Engine {
            available: true,
            detail: String::new(),
        };
        GpuInfo {
            ordinal: 0,
            name: "test".into(),
            uuid: String::new(),
            memory_total: free_gib << 30,
            memory_free: free_gib << 30,
            compute_capability: (9, 0),
            multiprocessors: 132,
            driver_cuda: (12, 4),
            nvdec: engine.clone(),
            nvenc_library: engine.clone(),
            nvrtc: engine,
        }
    }

    #[test]
    fn a_big_card_holds_many_1080p_segments_and_fewer_4k_ones() {
        // 32 frames of 1080p yuv420p are about 95 MiB; of 4K, about 380 MiB.
        assert_eq!(segments_that_fit(&card(80), 1920, 1080), 846);
        assert_eq!(segments_that_fit(&card(80), 3840, 2160), 211);
        assert_eq!(segments_that_fit(&card(2), 3840, 2160), 1);
        assert_eq!(segments_that_fit(&card(1), 1920, 1080), 0);
    }
}
