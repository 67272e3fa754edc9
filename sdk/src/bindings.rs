//! Bindings generated from `wit/plugin.wit`, one module per world.
//!
//! The `types` and `host` interfaces are generated once, in `shared`, and every
//! world module reuses them through wit-bindgen's `with` option, so a
//! `MediaInfo` is the same Rust type whichever world a plugin implements.
//!
//! The world modules are generated with `pub_export_macro`: the custom section
//! compiled into this crate describes only a world's imports (which
//! `wit-component` drops when unused), and the section describing its exports
//! is emitted by the export macro in the plugin crate. A plugin therefore
//! exports exactly the one world it names in its `export_*!` line.
// Generated code: its export shims take one argument per flattened value.
#![allow(missing_docs, clippy::too_many_arguments)]

/// `types` and `host`, through a world that imports `host` and nothing else.
pub mod shared {
    wit_bindgen::generate!({
        inline: "
            package framejet:sdk;
            world shared {
                import framejet:plugin/host@0.1.0;
            }
        ",
        path: "../wit",
        generate_all,
        runtime_path: "framejet_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

pub use shared::framejet::plugin::{host, types};

/// Generates one world's module, reusing `shared` for `types` and `host`.
macro_rules! world_bindings {
    ($world:literal, $export_macro:literal, $module:literal) => {
        wit_bindgen::generate!({
            path: "../wit",
            world: $world,
            runtime_path: "framejet_sdk::__private::wit_bindgen::rt",
            with: {
                "framejet:plugin/types@0.1.0": crate::bindings::types,
                "framejet:plugin/host@0.1.0": crate::bindings::host,
            },
            additional_derives: [PartialEq],
            pub_export_macro: true,
            export_macro_name: $export_macro,
            default_bindings_module: $module,
        });
    };
}

pub mod router {
    world_bindings!(
        "router",
        "export_router_world",
        "framejet_sdk::__private::router"
    );
}

pub mod segmenter {
    world_bindings!(
        "segmenter",
        "export_segmenter_world",
        "framejet_sdk::__private::segmenter"
    );
}

pub mod overlay {
    world_bindings!(
        "overlay",
        "export_overlay_world",
        "framejet_sdk::__private::overlay"
    );
}

pub mod frame_filter {
    world_bindings!(
        "frame-filter",
        "export_frame_filter_world",
        "framejet_sdk::__private::frame_filter"
    );
}
