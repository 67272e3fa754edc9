//! `{{name}}`: a framejet frame filter. It changes a frame's pixels.
//!
//! This one brightens the picture: it adds `amount` (default 16, -255 to
//! 255) to every luma (Y) sample. Frames are YUV 4:2:0: plane 0 is Y at full
//! size, planes 1 and 2 are U and V at half size; each has `stride` bytes per
//! row.
//!
//! Every frame crosses the sandbox twice, so when draw ops can do the job, an
//! overlay is cheaper.

use framejet_sdk::params;
use framejet_sdk::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Params {
    amount: i16,
}

impl Default for Params {
    fn default() -> Self {
        Params { amount: 16 }
    }
}

/// The filter.
pub struct Plugin {
    amount: i16,
}

impl FrameFilter for Plugin {
    fn create(_info: &MediaInfo, params: &str) -> Result<Self, PluginError> {
        let params: Params = params::parse(params)?;
        if !(-255..=255).contains(&params.amount) {
            return Err(PluginError::invalid(
                "amount",
                format!("must be from -255 to 255, got {}", params.amount),
            ));
        }
        Ok(Plugin {
            amount: params.amount,
        })
    }

    fn apply(&mut self, _index: u64, _pts_us: i64, mut frame: Frame) -> Result<Frame, PluginError> {
        let Some(luma) = frame.planes.first_mut() else {
            return Err(PluginError::new("the frame has no planes"));
        };
        for sample in &mut luma.data {
            *sample = (i16::from(*sample) + self.amount).clamp(0, 255) as u8;
        }
        Ok(frame)
    }
}

framejet_sdk::export_frame_filter!(Plugin);

#[cfg(test)]
mod tests {
    use framejet_sdk::testing::media_info;

    use super::*;

    fn frame(luma: Vec<u8>) -> Frame {
        Frame {
            width: 2,
            height: 1,
            format: PixelFormat::Yuv420p,
            planes: vec![
                Plane {
                    stride: 2,
                    data: luma,
                },
                Plane {
                    stride: 1,
                    data: vec![128],
                },
                Plane {
                    stride: 1,
                    data: vec![128],
                },
            ],
        }
    }

    #[test]
    fn brightens_luma() {
        let mut filter = Plugin::create(&media_info(2, 1, 30, 1), r#"{"amount": 20}"#).unwrap();
        let out = filter.apply(0, 0, frame(vec![10, 250])).unwrap();
        assert_eq!(out.planes[0].data, vec![30, 255]);
        assert_eq!(out.planes[1].data, vec![128]);
    }

    #[test]
    fn bad_params_name_the_field() {
        let err = Plugin::create(&media_info(2, 1, 30, 1), r#"{"amount": 300}"#)
            .err()
            .unwrap();
        assert_eq!(err.field.as_deref(), Some("amount"));
    }
}
