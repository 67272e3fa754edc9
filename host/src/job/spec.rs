//! The job spec, from the light `framejet-spec` crate that clients use
//! without FFmpeg or wasmtime: types, validation, JSON Schema.

pub use framejet_spec::*;
