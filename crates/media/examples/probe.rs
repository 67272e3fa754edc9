//! Prints what [`framejet_media::probe`] finds out about each file, as JSON (the same output
//! as `framejet probe --json`).
//!
//! ```text
//! cargo run -p framejet-media --example probe -- ep1.mp4 card.png
//! ```

#![allow(clippy::unwrap_used)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for path in std::env::args().skip(1) {
        match framejet_media::probe(&path) {
            Ok(info) => match serde_json::to_string_pretty(&info) {
                Ok(json) => println!("{json}"),
                Err(e) => {
                    eprintln!("{path}: {e}");
                    status = ExitCode::FAILURE;
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
