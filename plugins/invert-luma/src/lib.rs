//! `invert-luma`: a `frame-filter` example that inverts the luma (Y) plane,
//! `y' = 255 - y`, and leaves chroma alone. It takes no params.
//!
//! It exists to show the `frame-filter` world end to end; an inverted picture
//! is easy to recognise in a test.

use framejet_sdk::params;
use framejet_sdk::prelude::*;
use serde::Deserialize;

/// No params: only `{}` (or nothing) is accepted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

/// The filter. It keeps no state between frames.
pub struct InvertLuma;

impl FrameFilter for InvertLuma {
    fn create(_info: &MediaInfo, params: &str) -> Result<Self, PluginError> {
        let NoParams {} = params::parse(params)?;
        Ok(InvertLuma)
    }

    fn apply(&mut self, _index: u64, _pts_us: i64, mut frame: Frame) -> Result<Frame, PluginError> {
        let Some(luma) = frame.planes.first_mut() else {
            return Err(PluginError::new("the frame has no planes"));
        };
        invert(&mut luma.data);
        Ok(frame)
    }
}

/// `b = 255 - b` for every byte, eight at a time. Row padding is inverted too:
/// cheaper than skipping it, and never shown.
fn invert(bytes: &mut [u8]) {
    let mut words = bytes.chunks_exact_mut(8);
    for word in &mut words {
        let value = u64::from_ne_bytes([
            word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
        ]);
        word.copy_from_slice(&(!value).to_ne_bytes());
    }
    for byte in words.into_remainder() {
        *byte = !*byte;
    }
}

framejet_sdk::export_frame_filter!(InvertLuma);

#[cfg(test)]
mod tests {
    use framejet_sdk::testing::media_info;

    use super::*;

    fn frame() -> Frame {
        Frame {
            width: 2,
            height: 2,
            format: PixelFormat::Yuv420p,
            planes: vec![
                Plane {
                    stride: 4,
                    data: vec![0, 16, 9, 9, 235, 255, 9, 9],
                },
                Plane {
                    stride: 1,
                    data: vec![100],
                },
                Plane {
                    stride: 1,
                    data: vec![200],
                },
            ],
        }
    }

    #[test]
    fn inverts_luma_only() {
        let mut filter = InvertLuma::create(&media_info(2, 2, 30, 1), "").unwrap();
        let out = filter.apply(0, 0, frame()).unwrap();
        assert_eq!(&out.planes[0].data[..2], &[255, 239]);
        assert_eq!(&out.planes[0].data[4..6], &[20, 0]);
        assert_eq!(out.planes[1].data, vec![100]);
        assert_eq!(out.planes[2].data, vec![200]);
        assert_eq!(
            (out.width, out.height, out.format),
            (2, 2, PixelFormat::Yuv420p)
        );
        // Twice is the identity.
        assert_eq!(filter.apply(1, 0, out).unwrap(), frame());
    }

    #[test]
    fn invert_matches_the_scalar_rule() {
        let original: Vec<u8> = (0..=255).chain(0..13).collect();
        let mut bytes = original.clone();
        invert(&mut bytes);
        assert!(bytes.iter().zip(&original).all(|(&b, &o)| b == 255 - o));
    }

    #[test]
    fn takes_no_params() {
        let err = InvertLuma::create(&media_info(2, 2, 30, 1), r#"{"amount": 1}"#)
            .err()
            .unwrap();
        assert_eq!(err.field.as_deref(), Some("amount"));
    }
}
