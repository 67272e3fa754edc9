//! `{{name}}`: a framejet overlay. It says what to draw on each frame.
//!
//! This one draws a bar along the bottom of the frame from `start_s`
//! (default 0) on. Params: `color` (default `"#00000080"`), `height` in
//! pixels (default 80), `start_s`.
//!
//! Other things an overlay can draw: job assets (`DrawOp::Asset`), sprites it
//! defines once in `create` (`framejet_sdk::text` renders text into them), and
//! regions for the watermark remover (`DrawOp::Inpaint`).

use framejet_sdk::params;
use framejet_sdk::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Params {
    color: Rgba,
    height: u32,
    start_s: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            color: Rgba {
                r: 0,
                g: 0,
                b: 0,
                a: 128,
            },
            height: 80,
            start_s: 0.0,
        }
    }
}

/// The overlay, built once per video: work out everything here, so that
/// `frame` stays cheap.
pub struct Plugin {
    bar: RectFill,
    start_us: i64,
}

impl Overlay for Plugin {
    fn create(info: &MediaInfo, params: &str) -> Result<Self, PluginError> {
        let params: Params = params::parse(params)?;
        if params.height > info.height {
            let message = format!(
                "must be at most the frame's height ({}), got {}",
                info.height, params.height
            );
            return Err(PluginError::invalid("height", message));
        }
        if !(params.start_s.is_finite() && params.start_s >= 0.0) {
            return Err(PluginError::invalid(
                "start_s",
                format!("must be 0 or more, got {}", params.start_s),
            ));
        }
        let bar = RectFill {
            x: 0,
            y: (info.height - params.height) as i32,
            width: info.width,
            height: params.height,
            color: params.color,
        };
        Ok(Plugin {
            bar,
            start_us: (params.start_s * 1e6).round() as i64,
        })
    }

    fn frame(&mut self, _index: u64, pts_us: i64) -> Vec<DrawOp> {
        if pts_us < self.start_us {
            return Vec::new();
        }
        vec![DrawOp::Rect(self.bar)]
    }
}

framejet_sdk::export_overlay!(Plugin);

#[cfg(test)]
mod tests {
    use framejet_sdk::testing::media_info;

    use super::*;

    #[test]
    fn draws_a_bar_from_start() {
        let mut overlay =
            Plugin::create(&media_info(1920, 1080, 30, 300), r#"{"start_s": 1}"#).unwrap();
        assert!(overlay.frame(0, 0).is_empty());
        match overlay.frame(30, 1_000_000).as_slice() {
            [DrawOp::Rect(bar)] => assert_eq!((bar.y, bar.width, bar.height), (1000, 1920, 80)),
            other => panic!("unexpected ops {other:?}"),
        }
    }

    #[test]
    fn bad_params_name_the_field() {
        let err = Plugin::create(&media_info(1920, 1080, 30, 300), r#"{"color": "black"}"#)
            .err()
            .unwrap();
        assert_eq!(err.field.as_deref(), Some("color"));
    }
}
