//! `overlay-logo`: places one of the job's image assets (a logo) on the video,
//! in a corner or at given coordinates, for a time window, with fades.
//!
//! Params:
//!
//! | key          | default       | meaning                                                     |
//! |--------------|---------------|-------------------------------------------------------------|
//! | `asset`      | (required)    | the asset's name in the job spec                            |
//! | `corner`     | `"top-right"` | `top-left`, `top-right`, `bottom-left` or `bottom-right`    |
//! | `x`, `y`     | none          | the logo's top-left corner in pixels, instead of a corner   |
//! | `margin`     | `24`          | pixels between the logo and the frame's edges (corners only)|
//! | `scale`      | `1.0`         | size factor, greater than 0                                 |
//! | `opacity`    | `1.0`         | 0 (invisible) to 1                                          |
//! | `start_s`    | `0`           | first moment shown, in seconds                              |
//! | `end_s`      | none (to the end) | moment it is gone, in seconds                           |
//! | `fade_in_s`  | `0`           | opacity ramps up from 0 over this long after `start_s`      |
//! | `fade_out_s` | `0`           | opacity ramps down to 0 over this long before `end_s` (or the video's end) |
//!
//! `x` and `y` go together, and exclude `corner`: giving both a corner and
//! coordinates is an error rather than a silent choice. `margin` is ignored
//! with `x`/`y`.
//!
//! The logo is drawn `round(width * scale)` × `round(height * scale)` pixels
//! (rounding halves away from zero, computed in `f64` from the `f32` scale
//! sent in the draw op); corner positions use that size. A frame shown at
//! `t` seconds (from its `pts-us`) gets the logo when `start_s <= t < end_s`,
//! with opacity `opacity * min(1, (t - start_s) / fade_in_s, (end - t) / fade_out_s)`
//! and none at all when that is 0.

use framejet_sdk::prelude::*;
use framejet_sdk::{host, params};
use serde::Deserialize;

/// A corner of the frame.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum Corner {
    TopLeft,
    #[default]
    TopRight,
    BottomLeft,
    BottomRight,
}

/// The overlay's params as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    asset: String,
    corner: Option<Corner>,
    x: Option<i32>,
    y: Option<i32>,
    #[serde(default = "default_margin")]
    margin: u32,
    #[serde(default = "one")]
    scale: f32,
    #[serde(default = "one")]
    opacity: f32,
    start_s: Option<f64>,
    end_s: Option<f64>,
    #[serde(default)]
    fade_in_s: f64,
    #[serde(default)]
    fade_out_s: f64,
}

fn default_margin() -> u32 {
    24
}

fn one() -> f32 {
    1.0
}

/// Checks that `value` is a finite number of at least 0.
fn non_negative(field: &str, value: f64) -> Result<f64, PluginError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PluginError::invalid(
            field,
            format!("must be 0 or more, got {value}"),
        ))
    }
}

/// The overlay: everything per-frame work needs, worked out in `create`.
#[derive(Debug)]
pub struct OverlayLogo {
    asset: String,
    x: i32,
    y: i32,
    scale: f32,
    opacity: f32,
    start_s: f64,
    /// When the logo disappears, if `end_s` was given.
    end_s: Option<f64>,
    /// Where the fade-out ends: `end_s`, else the video's end.
    fade_out_end_s: Option<f64>,
    fade_in_s: f64,
    fade_out_s: f64,
}

impl OverlayLogo {
    /// Builds the overlay for a frame of `frame` size and an asset of `asset` size.
    fn new(info: &MediaInfo, params: Params, asset: ImageSize) -> Result<OverlayLogo, PluginError> {
        if !(params.scale.is_finite() && params.scale > 0.0) {
            return Err(PluginError::invalid(
                "scale",
                format!("must be greater than 0, got {}", params.scale),
            ));
        }
        if !(0.0..=1.0).contains(&params.opacity) {
            return Err(PluginError::invalid(
                "opacity",
                format!("must be from 0 to 1, got {}", params.opacity),
            ));
        }
        let start_s = non_negative("start_s", params.start_s.unwrap_or(0.0))?;
        let end_s = match params.end_s {
            Some(end) if !(end.is_finite() && end > start_s) => {
                return Err(PluginError::invalid(
                    "end_s",
                    format!("must be later than start_s ({start_s}), got {end}"),
                ));
            }
            end => end,
        };
        let fade_in_s = non_negative("fade_in_s", params.fade_in_s)?;
        let fade_out_s = non_negative("fade_out_s", params.fade_out_s)?;
        let video_end_s = (info.duration_us > 0).then(|| info.duration_us as f64 / 1e6);
        let fade_out_end_s = end_s.or(video_end_s);
        if fade_out_s > 0.0 && fade_out_end_s.is_none() {
            return Err(PluginError::invalid(
                "fade_out_s",
                "needs end_s: the video's duration is unknown, so there is no end to fade out before",
            ));
        }

        let scaled = |side: u32| (f64::from(side) * f64::from(params.scale)).round();
        let (width, height) = (scaled(asset.width), scaled(asset.height));
        if width < 1.0 || height < 1.0 {
            return Err(PluginError::invalid(
                "scale",
                format!(
                    "makes the {}x{} asset {width}x{height} pixels; it must stay at least 1x1",
                    asset.width, asset.height
                ),
            ));
        }
        let (x, y) = match (params.x, params.y, params.corner) {
            (Some(x), Some(y), None) => (x, y),
            (Some(_), Some(_), Some(_)) => {
                return Err(PluginError::invalid(
                    "corner",
                    "give either corner or x and y, not both",
                ));
            }
            (Some(_), None, _) => {
                return Err(PluginError::invalid("y", "is required when x is given"));
            }
            (None, Some(_), _) => {
                return Err(PluginError::invalid("x", "is required when y is given"));
            }
            (None, None, corner) => {
                let corner = corner.unwrap_or_default();
                corner_position(
                    corner,
                    info,
                    width as i64,
                    height as i64,
                    i64::from(params.margin),
                )
            }
        };

        Ok(OverlayLogo {
            asset: params.asset,
            x,
            y,
            scale: params.scale,
            opacity: params.opacity,
            start_s,
            end_s,
            fade_out_end_s,
            fade_in_s,
            fade_out_s,
        })
    }

    /// The logo's opacity at `t` seconds; 0 when it is not shown.
    fn opacity_at(&self, t: f64) -> f32 {
        if t < self.start_s || self.end_s.is_some_and(|end| t >= end) {
            return 0.0;
        }
        let mut factor: f64 = 1.0;
        if self.fade_in_s > 0.0 {
            factor = factor.min((t - self.start_s) / self.fade_in_s);
        }
        if let (true, Some(end)) = (self.fade_out_s > 0.0, self.fade_out_end_s) {
            factor = factor.min((end - t) / self.fade_out_s);
        }
        (f64::from(self.opacity) * factor.clamp(0.0, 1.0)) as f32
    }
}

/// The top-left position of a `width` × `height` logo in `corner`, `margin`
/// pixels from the edges.
fn corner_position(
    corner: Corner,
    info: &MediaInfo,
    width: i64,
    height: i64,
    margin: i64,
) -> (i32, i32) {
    let right = i64::from(info.width) - width - margin;
    let bottom = i64::from(info.height) - height - margin;
    let (x, y) = match corner {
        Corner::TopLeft => (margin, margin),
        Corner::TopRight => (right, margin),
        Corner::BottomLeft => (margin, bottom),
        Corner::BottomRight => (right, bottom),
    };
    let clamp = |v: i64| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    (clamp(x), clamp(y))
}

impl Overlay for OverlayLogo {
    fn create(info: &MediaInfo, params: &str) -> Result<Self, PluginError> {
        let params: Params = params::parse(params)?;
        if params.asset.is_empty() {
            return Err(PluginError::invalid(
                "asset",
                "must name one of the job's assets, got \"\"",
            ));
        }
        let size = host::asset_info(&params.asset).map_err(|err| {
            PluginError::invalid(
                "asset",
                format!("cannot use asset {:?}: {err}", params.asset),
            )
        })?;
        OverlayLogo::new(info, params, size)
    }

    fn frame(&mut self, _index: u64, pts_us: i64) -> Vec<DrawOp> {
        let opacity = self.opacity_at(pts_us as f64 / 1e6);
        if opacity <= 0.0 {
            return Vec::new();
        }
        vec![DrawOp::Asset(AssetPlacement {
            name: self.asset.clone(),
            x: self.x,
            y: self.y,
            scale: self.scale,
            opacity,
        })]
    }
}

framejet_sdk::export_overlay!(OverlayLogo);

#[cfg(test)]
mod tests {
    use framejet_sdk::testing;

    use super::*;

    const SECOND: i64 = 1_000_000;

    /// A 1920x1080, 10 s video and a 200x100 logo called "logo".
    fn create(params: &str) -> Result<OverlayLogo, PluginError> {
        testing::add_image("logo", 200, 100);
        OverlayLogo::create(&testing::media_info(1920, 1080, 30, 300), params)
    }

    fn placement(overlay: &mut OverlayLogo, pts_us: i64) -> Option<AssetPlacement> {
        match overlay.frame(0, pts_us).as_slice() {
            [] => None,
            [DrawOp::Asset(placement)] => Some(placement.clone()),
            other => panic!("unexpected ops {other:?}"),
        }
    }

    fn position(params: &str) -> (i32, i32) {
        let p = placement(&mut create(params).unwrap(), 0).expect("shown");
        (p.x, p.y)
    }

    fn opacity(overlay: &mut OverlayLogo, seconds: f64) -> f32 {
        placement(overlay, (seconds * 1e6) as i64).map_or(0.0, |p| p.opacity)
    }

    #[test]
    fn corners() {
        assert_eq!(
            position(r#"{"asset":"logo"}"#),
            (1696, 24),
            "top-right by default"
        );
        assert_eq!(
            position(r#"{"asset":"logo","corner":"top-left"}"#),
            (24, 24)
        );
        assert_eq!(
            position(r#"{"asset":"logo","corner":"top-right"}"#),
            (1696, 24)
        );
        assert_eq!(
            position(r#"{"asset":"logo","corner":"bottom-left"}"#),
            (24, 956)
        );
        assert_eq!(
            position(r#"{"asset":"logo","corner":"bottom-right"}"#),
            (1696, 956)
        );
        assert_eq!(
            position(r#"{"asset":"logo","corner":"bottom-right","margin":0}"#),
            (1720, 980)
        );
    }

    #[test]
    fn corners_use_the_rounded_scaled_size() {
        testing::add_image("odd", 201, 101);
        let info = testing::media_info(1920, 1080, 30, 300);
        let params = r#"{"asset":"odd","corner":"bottom-right","scale":0.5,"margin":10}"#;
        let mut overlay = OverlayLogo::create(&info, params).unwrap();
        // round(100.5) = 101, round(50.5) = 51.
        let p = placement(&mut overlay, 0).unwrap();
        assert_eq!((p.x, p.y, p.scale), (1920 - 101 - 10, 1080 - 51 - 10, 0.5));
        assert_eq!(
            position(r#"{"asset":"logo","corner":"bottom-right","scale":2}"#),
            (1496, 856)
        );
    }

    #[test]
    fn x_and_y() {
        assert_eq!(position(r#"{"asset":"logo","x":10,"y":-20}"#), (10, -20));
        assert_eq!(
            position(r#"{"asset":"logo","x":10,"y":20,"margin":99}"#),
            (10, 20)
        );
    }

    #[test]
    fn shown_from_start_to_end() {
        let mut overlay = create(r#"{"asset":"logo","start_s":1,"end_s":5}"#).unwrap();
        assert_eq!(placement(&mut overlay, 0), None);
        assert_eq!(placement(&mut overlay, SECOND - 1), None);
        assert_eq!(opacity(&mut overlay, 1.0), 1.0);
        assert_eq!(
            placement(&mut overlay, 5 * SECOND - 1).map(|p| p.opacity),
            Some(1.0)
        );
        assert_eq!(placement(&mut overlay, 5 * SECOND), None);
        let mut always = create(r#"{"asset":"logo"}"#).unwrap();
        assert_eq!(opacity(&mut always, 0.0), 1.0);
        assert_eq!(opacity(&mut always, 3600.0), 1.0);
    }

    #[test]
    fn fades_ramp_linearly() {
        let params =
            r#"{"asset":"logo","opacity":0.8,"start_s":1,"end_s":5,"fade_in_s":1,"fade_out_s":2}"#;
        let mut overlay = create(params).unwrap();
        let close = |a: f32, b: f32| (a - b).abs() < 1e-5;
        assert_eq!(opacity(&mut overlay, 0.5), 0.0);
        assert_eq!(opacity(&mut overlay, 1.0), 0.0, "fade-in starts at 0");
        assert!(close(opacity(&mut overlay, 1.5), 0.4));
        assert!(close(opacity(&mut overlay, 2.0), 0.8));
        assert!(close(opacity(&mut overlay, 3.0), 0.8));
        assert!(close(opacity(&mut overlay, 3.5), 0.6));
        assert!(close(opacity(&mut overlay, 4.5), 0.2));
        assert_eq!(opacity(&mut overlay, 5.0), 0.0);
    }

    #[test]
    fn fade_out_without_end_uses_the_video_end() {
        // The video lasts 10 s.
        let mut overlay = create(r#"{"asset":"logo","fade_out_s":4}"#).unwrap();
        assert_eq!(opacity(&mut overlay, 6.0), 1.0);
        assert!((opacity(&mut overlay, 9.0) - 0.25).abs() < 1e-6);
        let mut info = testing::media_info(1920, 1080, 30, 300);
        info.duration_us = 0;
        let err = OverlayLogo::create(&info, r#"{"asset":"logo","fade_out_s":4}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("fade_out_s"));
    }

    #[test]
    fn zero_opacity_draws_nothing() {
        let mut overlay = create(r#"{"asset":"logo","opacity":0}"#).unwrap();
        assert!(overlay.frame(0, 0).is_empty());
    }

    #[test]
    fn missing_asset_names_the_asset_field() {
        let err = create(r#"{"asset":"nope"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("asset"));
        assert!(err.message.contains("nope"), "{}", err.message);
        assert_eq!(create(r#"{}"#).unwrap_err().field.as_deref(), Some("asset"));
        assert_eq!(
            create(r#"{"asset":""}"#).unwrap_err().field.as_deref(),
            Some("asset")
        );
    }

    #[test]
    fn bad_params_name_the_field() {
        let error = |params: &str| {
            let err = create(params).unwrap_err();
            (err.field.unwrap_or_default(), err.message)
        };
        assert_eq!(
            error(r#"{"asset":"logo","corner":"middle"}"#),
            (
                "corner".into(),
                r#"expected one of top-left, top-right, bottom-left, bottom-right, got "middle""#
                    .into()
            )
        );
        assert_eq!(
            error(r#"{"asset":"logo","x":1,"y":2,"corner":"top-left"}"#).0,
            "corner"
        );
        assert_eq!(error(r#"{"asset":"logo","x":1}"#).0, "y");
        assert_eq!(error(r#"{"asset":"logo","y":1}"#).0, "x");
        assert_eq!(error(r#"{"asset":"logo","scale":0}"#).0, "scale");
        assert_eq!(error(r#"{"asset":"logo","scale":0.001}"#).0, "scale");
        assert_eq!(error(r#"{"asset":"logo","opacity":1.5}"#).0, "opacity");
        assert_eq!(error(r#"{"asset":"logo","start_s":-1}"#).0, "start_s");
        assert_eq!(
            error(r#"{"asset":"logo","start_s":3,"end_s":3}"#).0,
            "end_s"
        );
        assert_eq!(error(r#"{"asset":"logo","fade_in_s":-1}"#).0, "fade_in_s");
        assert_eq!(error(r#"{"asset":"logo","margin":-1}"#).0, "margin");
        assert_eq!(error(r#"{"asset":"logo","colour":"red"}"#).0, "colour");
    }
}
