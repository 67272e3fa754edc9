//! `broken-loop`, a test fixture: a router that never returns. The host's
//! fuel or epoch deadline must stop it.

use core::hint::black_box;

use framejet_sdk::prelude::*;

/// Spins forever when asked to route.
pub struct BrokenLoop;

impl Router for BrokenLoop {
    fn route(job: &JobInfo, _params: &str) -> Result<Route, PluginError> {
        // `black_box` keeps the optimiser from proving the loop useless.
        let mut counter = black_box(u64::from(job.item_count));
        loop {
            counter = black_box(counter.wrapping_add(1));
        }
    }
}

framejet_sdk::export_router!(BrokenLoop);
