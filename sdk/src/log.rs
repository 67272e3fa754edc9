//! One function per log level, writing to the job's log.
//!
//! ```no_run
//! framejet_sdk::log::info("placing the logo top-right");
//! framejet_sdk::log::warn(&format!("text is {} px wider than the frame", 120));
//! ```

use crate::{LogLevel, host};

/// Logs `message` at [`LogLevel::Trace`].
pub fn trace(message: &str) {
    host::log(LogLevel::Trace, message);
}

/// Logs `message` at [`LogLevel::Debug`].
pub fn debug(message: &str) {
    host::log(LogLevel::Debug, message);
}

/// Logs `message` at [`LogLevel::Info`].
pub fn info(message: &str) {
    host::log(LogLevel::Info, message);
}

/// Logs `message` at [`LogLevel::Warn`].
pub fn warn(message: &str) {
    host::log(LogLevel::Warn, message);
}

/// Logs `message` at [`LogLevel::Error`].
pub fn error(message: &str) {
    host::log(LogLevel::Error, message);
}
