//! `broken-garbage-router`, a test fixture: a router whose queue names break
//! the contract's rule (1-64 characters of `a-z`, `0-9`, `-`, `_`).
//!
//! With params, the queue is the params text itself (`{"x":1}` routes to the
//! queue `{"x":1}`). With no params (empty text), the queue is 200 `a`s.

use framejet_sdk::prelude::*;

const LONG_NAME_CHARS: usize = 200;

/// Routes to invalid queue names.
pub struct BrokenGarbageRouter;

impl Router for BrokenGarbageRouter {
    fn route(job: &JobInfo, params: &str) -> Result<Route, PluginError> {
        let queue = if params.is_empty() {
            "a".repeat(LONG_NAME_CHARS)
        } else {
            params.to_owned()
        };
        Ok(Route::to_queue(queue, job.priority))
    }
}

framejet_sdk::export_router!(BrokenGarbageRouter);
