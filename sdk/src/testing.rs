//! An in-process stand-in for the host, for a plugin's native unit tests.
//!
//! Built for any target but `wasm32`, the [`host`](crate::host) calls land
//! here instead of in the framejet host. Each test thread has its own state,
//! so tests running in parallel do not see each other's assets or sprites.
//!
//! ```
//! use framejet_sdk::{host, testing};
//!
//! testing::add_image("logo", 200, 100);
//! assert_eq!(host::asset_info("logo").unwrap().width, 200);
//! assert!(host::asset_info("missing").is_err());
//!
//! let id = host::define_sprite(1, 1, &[255, 0, 0, 255]).unwrap();
//! assert_eq!(testing::sprites()[0].id, id);
//! ```
//!
//! It also builds the inputs plugins receive, with plausible values:
//! [`media_info`] and [`job_info`].

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::{ImageSize, JobInfo, LogLevel, MediaInfo, Priority, Rational};

/// A sprite a plugin defined through [`host::define_sprite`](crate::host::define_sprite).
#[derive(Clone, Debug, PartialEq)]
pub struct DefinedSprite {
    /// The id `define_sprite` returned.
    pub id: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` RGBA pixels, straight alpha.
    pub rgba: Vec<u8>,
}

#[derive(Default)]
struct TestAsset {
    bytes: Vec<u8>,
    size: Option<ImageSize>,
}

#[derive(Default)]
struct TestHost {
    assets: BTreeMap<String, TestAsset>,
    sprites: Vec<DefinedSprite>,
    logs: Vec<(LogLevel, String)>,
}

thread_local! {
    static HOST: RefCell<TestHost> = RefCell::new(TestHost::default());
}

fn with_host<R>(f: impl FnOnce(&mut TestHost) -> R) -> R {
    HOST.with(|host| f(&mut host.borrow_mut()))
}

/// Attaches an asset with these bytes to the (pretend) job. It has no pixel
/// size: use [`add_image`] for assets the plugin asks `asset_info` about.
pub fn add_asset(name: &str, bytes: impl Into<Vec<u8>>) {
    with_host(|host| {
        host.assets.insert(
            name.to_owned(),
            TestAsset {
                bytes: bytes.into(),
                size: None,
            },
        );
    });
}

/// Attaches an image asset of `width` × `height` pixels (and no bytes).
pub fn add_image(name: &str, width: u32, height: u32) {
    with_host(|host| {
        let asset = TestAsset {
            bytes: Vec::new(),
            size: Some(ImageSize { width, height }),
        };
        host.assets.insert(name.to_owned(), asset);
    });
}

/// The sprites defined so far on this thread, in definition order.
pub fn sprites() -> Vec<DefinedSprite> {
    with_host(|host| host.sprites.clone())
}

/// The log lines written so far on this thread.
pub fn logs() -> Vec<(LogLevel, String)> {
    with_host(|host| host.logs.clone())
}

/// Forgets this thread's assets, sprites and log lines.
pub fn reset() {
    with_host(|host| *host = TestHost::default());
}

/// A `width` × `height` video of `frame_count` frames at `fps` frames per
/// second, with one keyframe, at frame 0 (set `keyframes` for other layouts).
pub fn media_info(width: u32, height: u32, fps: u32, frame_count: u64) -> MediaInfo {
    let duration_us = if fps == 0 {
        0
    } else {
        frame_count.saturating_mul(1_000_000) / u64::from(fps)
    };
    MediaInfo {
        width,
        height,
        frame_rate: Rational { num: fps, den: 1 },
        frame_count,
        duration_us,
        keyframes: if frame_count == 0 {
            Vec::new()
        } else {
            vec![0]
        },
        has_audio: true,
    }
}

/// A job joining `item_count` inputs into a `width` × `height` output of
/// 10 seconds at 30 fps, with normal priority and one step.
pub fn job_info(item_count: u32, width: u32, height: u32) -> JobInfo {
    JobInfo {
        id: "test-job".to_owned(),
        item_count,
        output_width: width,
        output_height: height,
        total_frames: 300,
        total_duration_us: 10_000_000,
        step_count: 1,
        priority: Priority::Normal,
    }
}

/// The stand-in's side of [`crate::host`].
pub(crate) mod host {
    use super::{DefinedSprite, TestAsset, with_host};
    use crate::{ImageSize, LogLevel};

    pub fn log(level: LogLevel, message: &str) {
        with_host(|host| host.logs.push((level, message.to_owned())));
    }

    pub fn asset(name: &str) -> Result<Vec<u8>, String> {
        with_host(|host| match host.assets.get(name) {
            Some(asset) => Ok(asset.bytes.clone()),
            None => Err(format!("the job has no asset `{name}`")),
        })
    }

    pub fn asset_info(name: &str) -> Result<ImageSize, String> {
        with_host(|host| match host.assets.get(name) {
            Some(TestAsset {
                size: Some(size), ..
            }) => Ok(*size),
            Some(_) => Err(format!("asset `{name}` is not an image")),
            None => Err(format!("the job has no asset `{name}`")),
        })
    }

    pub fn define_sprite(width: u32, height: u32, rgba: &[u8]) -> Result<u32, String> {
        let expected = u64::from(width) * u64::from(height) * 4;
        if width == 0 || height == 0 {
            return Err(format!(
                "sprite is {width}x{height}; both sides must be at least 1 px"
            ));
        }
        if rgba.len() as u64 != expected {
            return Err(format!(
                "sprite is {width}x{height} but has {} bytes, not {expected}",
                rgba.len()
            ));
        }
        with_host(|host| {
            let id =
                u32::try_from(host.sprites.len()).map_err(|_| "too many sprites".to_owned())?;
            host.sprites.push(DefinedSprite {
                id,
                width,
                height,
                rgba: rgba.to_vec(),
            });
            Ok(id)
        })
    }
}
