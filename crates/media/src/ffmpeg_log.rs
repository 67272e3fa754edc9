//! FFmpeg's own log, routed instead of printed: each line goes to the
//! handler the host installs ([`set_ffmpeg_log_handler`], the job log of
//! `framejet run`), else to `tracing` under the `ffmpeg` target at debug
//! level. Nothing reaches stderr raw.
//!
//! While an encoder opens, the errors FFmpeg logs on that thread are also
//! kept ([`capture_errors`]), so a refusal ("preset must be a number")
//! reaches the user in the error itself, not only in a log.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{Arc, RwLock};

use ffmpeg::ffi;
use ffmpeg_next as ffmpeg;

/// One line of FFmpeg's log.
#[derive(Debug, Clone, Copy)]
pub struct FfmpegLogLine<'a> {
    /// FFmpeg's level, as `tracing`'s (fatal and error are `ERROR`).
    pub level: tracing::Level,
    /// What logged it (`libx264`, `mov,mp4,m4a,3gp,3g2,mj2`, `swscaler`), or empty.
    pub context: &'a str,
    /// The text, without its newline.
    pub message: &'a str,
}

/// Receives FFmpeg's log lines, from any thread.
pub type FfmpegLogHandler = Arc<dyn Fn(&FfmpegLogLine<'_>) + Send + Sync>;

static HANDLER: RwLock<Option<FfmpegLogHandler>> = RwLock::new(None);

/// Sends FFmpeg's log lines (warnings and errors) to `handler` from now on;
/// `None` sends them back to `tracing`.
pub fn set_ffmpeg_log_handler(handler: Option<FfmpegLogHandler>) {
    crate::util::ensure_init();
    if let Ok(mut h) = HANDLER.write() {
        *h = handler;
    }
}

thread_local! {
    /// A line FFmpeg has not finished yet (it logs some in pieces).
    static PARTIAL: RefCell<String> = const { RefCell::new(String::new()) };
    /// Error lines kept while [`capture_errors`] runs on this thread.
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `f`, returning with its result the error lines FFmpeg logged on this
/// thread meanwhile (`"libsvtav1: ..."`).
pub(crate) fn capture_errors<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    CAPTURED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let result = f();
    let lines = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (result, lines)
}

/// How bindgen spells the `va_list` argument of FFmpeg's log callback on
/// this target.
#[cfg(target_arch = "x86_64")]
type VaList = *mut ffi::__va_list_tag;

/// Installs the callback; called once from [`crate::util::ensure_init`].
#[cfg(target_arch = "x86_64")]
pub(crate) fn install() {
    // SAFETY: setting FFmpeg's process-wide log level and callback; the
    // callback below is `extern "C"`, never unwinds and only reads what
    // FFmpeg passes it.
    unsafe {
        ffi::av_log_set_level(ffi::AV_LOG_WARNING);
        ffi::av_log_set_callback(Some(callback));
    }
}

/// Where `va_list` is spelled otherwise, FFmpeg's log is only turned down
/// to errors.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn install() {
    ffmpeg::log::set_level(ffmpeg::log::Level::Error);
}

fn level_of(level: c_int) -> Option<tracing::Level> {
    match level {
        l if l <= ffi::AV_LOG_ERROR => Some(tracing::Level::ERROR),
        l if l <= ffi::AV_LOG_WARNING => Some(tracing::Level::WARN),
        _ => None,
    }
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" fn callback(avcl: *mut c_void, level: c_int, fmt: *const c_char, args: VaList) {
    let Some(tracing_level) = level_of(level) else {
        return;
    };
    let mut buf = [0 as c_char; 1024];
    let mut print_prefix: c_int = 0;
    // SAFETY: FFmpeg hands its own format and arguments, which
    // av_log_format_line2 formats into our buffer (truncating, NUL-ended).
    let written = unsafe {
        ffi::av_log_format_line2(
            avcl,
            level,
            fmt,
            args,
            buf.as_mut_ptr(),
            buf.len() as c_int,
            &mut print_prefix,
        )
    };
    if written < 0 {
        return;
    }
    // SAFETY: the buffer is NUL-terminated by av_log_format_line2.
    let piece = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
    let Some(message) = PARTIAL.with(|p| {
        let mut p = p.borrow_mut();
        p.push_str(&piece);
        p.ends_with('\n').then(|| std::mem::take(&mut *p))
    }) else {
        return;
    };
    let message = message.trim_end();
    if message.is_empty() {
        return;
    }
    // SAFETY: `avcl`, when not null, points to a struct whose first member
    // is a pointer to its AVClass, as av_log requires of its callers.
    let context = unsafe { class_name(avcl) };
    let line = FfmpegLogLine {
        level: tracing_level,
        context: &context,
        message,
    };
    if tracing_level == tracing::Level::ERROR {
        CAPTURED.with(|c| {
            if let Some(lines) = c.borrow_mut().as_mut() {
                lines.push(if context.is_empty() {
                    message.to_string()
                } else {
                    format!("{context}: {message}")
                });
            }
        });
    }
    let handler = HANDLER.read().ok().and_then(|h| h.clone());
    match handler {
        Some(handler) => handler(&line),
        None => {
            tracing::debug!(target: "ffmpeg", level = %line.level, context = %context, "{message}")
        }
    }
}

/// The item name of the AVClass behind `avcl`, or empty.
///
/// # Safety
/// `avcl` is null or what av_log was given: a pointer to a struct starting
/// with an `AVClass *`.
unsafe fn class_name(avcl: *mut c_void) -> String {
    if avcl.is_null() {
        return String::new();
    }
    // SAFETY: per this function's contract.
    unsafe {
        let class = *(avcl as *const *const ffi::AVClass);
        if class.is_null() {
            return String::new();
        }
        match (*class).item_name {
            Some(item_name) => {
                let name = item_name(avcl);
                if name.is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(name).to_string_lossy().into_owned()
                }
            }
            None => String::new(),
        }
    }
}
