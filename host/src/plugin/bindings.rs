//! Typed bindings to the four worlds of `wit/plugin.wit`.
//!
//! The `types` and `host` interfaces are generated once, with the router
//! world, and shared by the other worlds so that one `MediaInfo` or
//! `PluginError` type serves every kind of plugin.

pub mod router {
    wasmtime::component::bindgen!({
        world: "router",
        path: "../wit",
    });
}

pub mod segmenter {
    wasmtime::component::bindgen!({
        world: "segmenter",
        path: "../wit",
        with: {
            "framejet:plugin/types": crate::plugin::bindings::router::framejet::plugin::types,
            "framejet:plugin/host": crate::plugin::bindings::router::framejet::plugin::host,
        },
    });
}

pub mod overlay {
    wasmtime::component::bindgen!({
        world: "overlay",
        path: "../wit",
        with: {
            "framejet:plugin/types": crate::plugin::bindings::router::framejet::plugin::types,
            "framejet:plugin/host": crate::plugin::bindings::router::framejet::plugin::host,
        },
    });
}

pub mod frame_filter {
    wasmtime::component::bindgen!({
        world: "frame-filter",
        path: "../wit",
        with: {
            "framejet:plugin/types": crate::plugin::bindings::router::framejet::plugin::types,
            "framejet:plugin/host": crate::plugin::bindings::router::framejet::plugin::host,
        },
    });
}

pub use router::framejet::plugin::host;
pub use router::framejet::plugin::types;
