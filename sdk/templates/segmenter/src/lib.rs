//! `{{name}}`: a framejet segmenter. It cuts a video into frame ranges that
//! workers encode independently.
//!
//! This one starts a new segment on the first keyframe at least
//! `segment_frames` frames (default 300) after the current segment's start.

use framejet_sdk::params;
use framejet_sdk::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Params {
    segment_frames: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            segment_frames: 300,
        }
    }
}

/// The segmenter.
pub struct Plugin;

impl Segmenter for Plugin {
    fn plan(info: &MediaInfo, params: &str) -> Result<Vec<Segment>, PluginError> {
        let params: Params = params::parse(params)?;
        if params.segment_frames == 0 {
            return Err(PluginError::invalid(
                "segment_frames",
                "must be at least 1, got 0",
            ));
        }
        if info.frame_count == 0 {
            return Err(PluginError::new("the video has no frames"));
        }
        let mut segments = Vec::new();
        let mut start = 0;
        for &keyframe in &info.keyframes {
            if keyframe < info.frame_count && keyframe >= start + params.segment_frames {
                segments.push(Segment {
                    start,
                    end: keyframe,
                });
                start = keyframe;
            }
        }
        segments.push(Segment {
            start,
            end: info.frame_count,
        });
        Ok(segments)
    }
}

framejet_sdk::export_segmenter!(Plugin);

#[cfg(test)]
mod tests {
    use framejet_sdk::testing::media_info;

    use super::*;

    #[test]
    fn cuts_on_keyframes() {
        let info = MediaInfo {
            keyframes: vec![0, 250, 300, 550, 900],
            ..media_info(1920, 1080, 30, 1000)
        };
        let segments = Plugin::plan(&info, "").unwrap();
        let bounds: Vec<(u64, u64)> = segments.iter().map(|s| (s.start, s.end)).collect();
        assert_eq!(bounds, vec![(0, 300), (300, 900), (900, 1000)]);
    }

    #[test]
    fn bad_params_name_the_field() {
        let err =
            Plugin::plan(&media_info(1920, 1080, 30, 10), r#"{"segment_frames": 0}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("segment_frames"));
    }
}
