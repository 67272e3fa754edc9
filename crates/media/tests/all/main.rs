//! Integration tests of the media crate against real files. Fixtures are generated with the
//! `ffmpeg` command-line tool on first use and cached under the target directory.

#![allow(clippy::unwrap_used)]

mod common;

mod composite;
mod concat;
mod decode;
mod encode;
mod errors;
mod fit;
mod gpu_twins;
mod probe;
