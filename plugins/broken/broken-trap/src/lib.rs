//! `broken-trap`, a test fixture: a router that traps (panics, which aborts
//! the WebAssembly instance) on every call. The host must fail the job step
//! with the plugin's name and message, and keep the worker running.

use framejet_sdk::prelude::*;

/// Traps when asked to route.
pub struct BrokenTrap;

impl Router for BrokenTrap {
    fn route(job: &JobInfo, _params: &str) -> Result<Route, PluginError> {
        panic!("broken-trap: deliberate trap while routing job {}", job.id);
    }
}

framejet_sdk::export_router!(BrokenTrap);
