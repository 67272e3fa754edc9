//! `broken-memory`, a test fixture: a router that allocates 1 MiB after 1 MiB,
//! touching every page, until the host's memory cap stops it (the allocation
//! failure aborts the instance).

use core::hint::black_box;

use framejet_sdk::prelude::*;

const CHUNK: usize = 1 << 20;
const PAGE: usize = 4096;

/// Grows its memory without end when asked to route.
pub struct BrokenMemory;

impl Router for BrokenMemory {
    fn route(_job: &JobInfo, _params: &str) -> Result<Route, PluginError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut chunk = vec![0u8; CHUNK];
            for (i, page) in chunk.chunks_mut(PAGE).enumerate() {
                page[0] = i as u8 | 1;
            }
            hoard.push(black_box(chunk));
            black_box(&hoard);
        }
    }
}

framejet_sdk::export_router!(BrokenMemory);
