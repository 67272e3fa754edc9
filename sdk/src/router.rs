//! The `router` world: decide which work queue a job goes to, and what a
//! worker needs to run it.
//!
//! Implement [`Router`] on a type and export it with [`export_router!`](crate::export_router).

use core::marker::PhantomData;

use crate::bindings::router as world;
use crate::{PluginError, Priority};

pub use world::{JobInfo, Route};

/// A plugin implementing the `router` world.
///
/// ```
/// use framejet_sdk::prelude::*;
///
/// /// Sends every job with more than 10 inputs to the `big` queue.
/// struct ByItems;
///
/// impl Router for ByItems {
///     fn route(job: &JobInfo, _params: &str) -> Result<Route, PluginError> {
///         let queue = if job.item_count > 10 { "big" } else { "default" };
///         Ok(Route::to_queue(queue, job.priority))
///     }
/// }
///
/// framejet_sdk::export_router!(ByItems);
/// ```
pub trait Router {
    /// Routes one job. `params` is the route step's params as JSON text
    /// (parse it with [`params::parse`](crate::params::parse)).
    ///
    /// The queue name must be 1-64 characters of `a-z`, `0-9`, `-`, `_`.
    fn route(job: &JobInfo, params: &str) -> Result<Route, PluginError>;
}

impl Route {
    /// A route to `queue` at `priority`, with no required capabilities and no
    /// memory requirement.
    pub fn to_queue(queue: impl Into<String>, priority: Priority) -> Route {
        Route {
            queue: queue.into(),
            priority,
            capabilities: Vec::new(),
            min_memory_mib: None,
        }
    }
}

/// Adapts a [`Router`] to the generated bindings. Used by [`export_router!`](crate::export_router).
#[doc(hidden)]
pub struct RouterExport<T>(PhantomData<T>);

impl<T: Router> world::Guest for RouterExport<T> {
    fn route(job: JobInfo, params: String) -> Result<Route, PluginError> {
        T::route(&job, &params)
    }
}

/// Exports a [`Router`] implementation as this component's `router` world.
///
/// Use it once, in the plugin crate: `framejet_sdk::export_router!(MyRouter);`
#[macro_export]
macro_rules! export_router {
    ($ty:ty) => {
        const _: () = {
            type FramejetRouterExport = $crate::__private::RouterExport<$ty>;
            $crate::__private::router::export_router_world!(
                FramejetRouterExport with_types_in $crate::__private::router
            );
        };
    };
}
