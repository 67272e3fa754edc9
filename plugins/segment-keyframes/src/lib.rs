//! `segment-keyframes`, the default segmenter: cuts a video into segments of
//! about `target_seconds`, each starting on a keyframe.
//!
//! The segments cover every frame exactly once, in order, and each starts on
//! a keyframe (frame 0 always counts as one, whether or not `keyframes` lists
//! it; keyframes at or past the last frame are ignored).
//!
//! Params (all optional):
//!
//! | key              | default | meaning                                               |
//! |------------------|---------|-------------------------------------------------------|
//! | `target_seconds` | `10.0`  | aim for segments of about this length                 |
//! | `min_segments`   | `1`     | cut into at least this many segments, when possible   |
//! | `max_segments`   | `64`    | never more segments than this                         |
//! | `min_frames`     | `1`     | no segment shorter than this many frames              |
//!
//! How the plan is made:
//!
//! 1. No frames is an error. A video shorter than `2 * min_frames` frames is
//!    one segment.
//! 2. The wanted count is `round(frames / (target_seconds * fps))` (at least
//!    1), raised to `min_segments` and capped at `max_segments`. Without a
//!    usable frame rate (neither `frame-rate` nor `duration-us`), only
//!    `min_segments` counts.
//! 3. Cuts go on keyframes, so that every segment has at least `min_frames`
//!    frames: `min_frames` wins over `min_segments`. When the keyframes cannot
//!    give the wanted count under that rule, the plan has as many segments as
//!    they can give.
//! 4. Each cut is the keyframe nearest to where an even split of the rest of
//!    the video would put it, among those that still leave room for the
//!    remaining cuts.

use framejet_sdk::params;
use framejet_sdk::prelude::*;
use serde::Deserialize;

/// The segmenter's params, with their defaults.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Params {
    min_segments: u32,
    max_segments: u32,
    min_frames: u64,
    target_seconds: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            min_segments: 1,
            max_segments: 64,
            min_frames: 1,
            target_seconds: 10.0,
        }
    }
}

impl Params {
    fn parse(json: &str) -> Result<Params, PluginError> {
        let p: Params = params::parse(json)?;
        if p.min_segments < 1 {
            return Err(PluginError::invalid(
                "min_segments",
                "must be at least 1, got 0",
            ));
        }
        if p.max_segments < p.min_segments {
            return Err(PluginError::invalid(
                "max_segments",
                format!(
                    "must be at least min_segments ({}), got {}",
                    p.min_segments, p.max_segments
                ),
            ));
        }
        if p.min_frames < 1 {
            return Err(PluginError::invalid(
                "min_frames",
                "must be at least 1, got 0",
            ));
        }
        if !(p.target_seconds.is_finite() && p.target_seconds > 0.0) {
            return Err(PluginError::invalid(
                "target_seconds",
                format!("must be a number greater than 0, got {}", p.target_seconds),
            ));
        }
        Ok(p)
    }
}

/// The default segmenter.
pub struct SegmentKeyframes;

impl Segmenter for SegmentKeyframes {
    fn plan(info: &MediaInfo, params: &str) -> Result<Vec<Segment>, PluginError> {
        let params = Params::parse(params)?;
        plan(info, &params)
    }
}

framejet_sdk::export_segmenter!(SegmentKeyframes);

fn plan(info: &MediaInfo, params: &Params) -> Result<Vec<Segment>, PluginError> {
    let frames = info.frame_count;
    if frames == 0 {
        return Err(PluginError::new(
            "the video has no frames, so there is nothing to segment",
        ));
    }
    let min_frames = params.min_frames;
    if frames < min_frames.saturating_mul(2) {
        return Ok(vec![Segment {
            start: 0,
            end: frames,
        }]);
    }

    let by_target = match frames_per_second(info) {
        Some(fps) => {
            let target_frames = (params.target_seconds * fps).max(1.0);
            (frames as f64 / target_frames).round().max(1.0) as u64
        }
        None => 1,
    };
    let wanted = by_target
        .max(u64::from(params.min_segments))
        .min(u64::from(params.max_segments));

    // Keyframes a cut may go on: each leaves at least `min_frames` on both sides.
    let mut candidates: Vec<u64> = info
        .keyframes
        .iter()
        .copied()
        .filter(|&k| k >= min_frames && k <= frames - min_frames)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();

    let cuts = choose_cuts(&candidates, frames, wanted.saturating_sub(1), min_frames);
    let bounds: Vec<u64> = core::iter::once(0)
        .chain(cuts)
        .chain(core::iter::once(frames))
        .collect();
    Ok(bounds
        .windows(2)
        .map(|w| Segment {
            start: w[0],
            end: w[1],
        })
        .collect())
}

/// The average frame rate: from `frame-rate`, else from the duration.
fn frames_per_second(info: &MediaInfo) -> Option<f64> {
    let rate = info.frame_rate;
    if rate.num > 0 && rate.den > 0 {
        return Some(f64::from(rate.num) / f64::from(rate.den));
    }
    (info.duration_us > 0).then(|| info.frame_count as f64 * 1e6 / info.duration_us as f64)
}

/// Picks up to `wanted` cut points from `candidates` (sorted, each with at
/// least `min_gap` frames before it and after it to `frames`), at least
/// `min_gap` apart, each as close as it can be to an even split of what is
/// left of the video.
fn choose_cuts(candidates: &[u64], frames: u64, wanted: u64, min_gap: u64) -> Vec<u64> {
    if candidates.is_empty() || wanted == 0 {
        return Vec::new();
    }
    // first_after[i]: the first candidate at least `min_gap` after candidate i.
    // chain[i]: the most cuts that can be made starting with candidate i
    // (taking the earliest allowed candidate each time gives the most).
    // `chain` never grows with `i`.
    let n = candidates.len();
    let first_at_or_after = |value: u64| candidates.partition_point(|&c| c < value);
    let mut chain = vec![1u64; n];
    for i in (0..n).rev() {
        let next = first_at_or_after(candidates[i].saturating_add(min_gap));
        if next < n {
            chain[i] = 1 + chain[next];
        }
    }
    let count = wanted.min(chain[0]);

    let mut cuts = Vec::with_capacity(count as usize);
    let mut previous = 0u64;
    let mut lo = first_at_or_after(min_gap);
    for made in 0..count {
        let still_needed = count - made; // this cut and the ones after it
        // The last candidate from which `still_needed` cuts remain possible.
        let hi = chain.partition_point(|&c| c >= still_needed) - 1;
        let segments_left = still_needed + 1;
        let ideal = previous as f64 + (frames - previous) as f64 / segments_left as f64;
        let pick = nearest(candidates, lo, hi, ideal);
        previous = candidates[pick];
        cuts.push(previous);
        lo = first_at_or_after(previous.saturating_add(min_gap));
    }
    cuts
}

/// The index in `candidates[lo..=hi]` whose value is nearest `ideal` (the
/// earlier one on a tie).
fn nearest(candidates: &[u64], lo: usize, hi: usize, ideal: f64) -> usize {
    let window = &candidates[lo..=hi];
    let after = window.partition_point(|&c| (c as f64) < ideal);
    let distance = |i: usize| (window[i] as f64 - ideal).abs();
    let best = match after {
        0 => 0,
        a if a == window.len() => a - 1,
        a if distance(a - 1) <= distance(a) => a - 1,
        a => a,
    };
    lo + best
}

#[cfg(test)]
mod tests {
    use framejet_sdk::testing::media_info;

    use super::*;

    fn video(frames: u64, fps: u32, keyframes: Vec<u64>) -> MediaInfo {
        MediaInfo {
            keyframes,
            ..media_info(1920, 1080, fps, frames)
        }
    }

    fn every(step: u64, frames: u64) -> Vec<u64> {
        (0..frames).step_by(step as usize).collect()
    }

    fn run(info: &MediaInfo, params: &str) -> Vec<Segment> {
        let segments = SegmentKeyframes::plan(info, params).unwrap();
        check(info, &segments, params);
        segments
    }

    fn starts(segments: &[Segment]) -> Vec<u64> {
        segments.iter().map(|s| s.start).collect()
    }

    /// Every frame once, in order, each segment on a keyframe, and no segment
    /// shorter than min_frames unless the video is one segment.
    fn check(info: &MediaInfo, segments: &[Segment], params: &str) {
        let p = Params::parse(params).unwrap();
        assert!(!segments.is_empty());
        assert_eq!(segments[0].start, 0);
        assert_eq!(segments.last().unwrap().end, info.frame_count);
        for pair in segments.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "{segments:?}");
        }
        for s in segments {
            assert!(s.start < s.end, "{segments:?}");
            assert!(
                s.start == 0 || info.keyframes.contains(&s.start),
                "{s:?} not on a keyframe"
            );
            if segments.len() > 1 {
                assert!(
                    s.len() >= p.min_frames,
                    "{s:?} shorter than {}",
                    p.min_frames
                );
            }
        }
        assert!(segments.len() as u64 <= u64::from(p.max_segments));
    }

    #[test]
    fn target_seconds_sets_the_count() {
        // 60 s at 30 fps, a keyframe every 2 s: six 10 s segments.
        let info = video(1800, 30, every(60, 1800));
        assert_eq!(starts(&run(&info, "")), vec![0, 300, 600, 900, 1200, 1500]);
        assert_eq!(run(&info, r#"{"target_seconds": 20}"#).len(), 3);
        assert_eq!(run(&info, r#"{"target_seconds": 1000}"#).len(), 1);
    }

    #[test]
    fn min_segments_splits_finer() {
        // 20 s: by target alone, two segments.
        let info = video(600, 30, every(30, 600));
        assert_eq!(run(&info, "").len(), 2);
        assert_eq!(
            starts(&run(&info, r#"{"min_segments": 4}"#)),
            vec![0, 150, 300, 450]
        );
        assert_eq!(run(&info, r#"{"min_segments": 20}"#).len(), 20);
        // More than there are keyframes: as many as there can be.
        assert_eq!(
            run(&info, r#"{"min_segments": 30, "max_segments": 30}"#).len(),
            20
        );
    }

    #[test]
    fn max_segments_caps_the_count() {
        let info = video(30 * 3600, 30, every(60, 30 * 3600));
        assert_eq!(run(&info, "").len(), 64);
        assert_eq!(run(&info, r#"{"max_segments": 10}"#).len(), 10);
        assert_eq!(
            run(&info, r#"{"min_segments": 5, "max_segments": 5}"#).len(),
            5
        );
    }

    #[test]
    fn min_frames_is_honoured_before_min_segments() {
        let info = video(600, 30, every(30, 600));
        let segments = run(&info, r#"{"min_segments": 8, "min_frames": 100}"#);
        assert_eq!(segments.len(), 5, "{segments:?}");
        // Too short for two segments of min_frames: one segment.
        assert_eq!(
            run(&info, r#"{"min_segments": 2, "min_frames": 301}"#).len(),
            1
        );
        let info = video(10, 30, every(1, 10));
        assert_eq!(
            run(&info, r#"{"min_segments": 2, "min_frames": 6}"#).len(),
            1
        );
        assert_eq!(
            run(&info, r#"{"min_segments": 2, "min_frames": 5}"#).len(),
            2
        );
    }

    #[test]
    fn short_segment_at_either_end_is_avoided() {
        // Keyframes near the ends only: a cut there would leave a runt.
        let info = video(1000, 25, vec![0, 5, 995]);
        assert_eq!(
            run(&info, r#"{"min_segments": 3, "min_frames": 10}"#).len(),
            1
        );
        assert_eq!(
            starts(&run(&info, r#"{"min_segments": 3, "min_frames": 5}"#)),
            vec![0, 5, 995]
        );
    }

    #[test]
    fn irregular_keyframes() {
        let keyframes = vec![0, 7, 130, 133, 500, 512, 760, 761, 999, 1400, 1401, 1899];
        let info = video(2000, 25, keyframes);
        for params in [
            "",
            r#"{"min_segments": 4}"#,
            r#"{"min_segments": 6, "min_frames": 200}"#,
            r#"{"min_segments": 64, "max_segments": 64}"#,
            r#"{"target_seconds": 3.3, "min_frames": 50}"#,
        ] {
            run(&info, params);
        }
        // Four even cuts would be at 500, 1000 and 1500: the nearest keyframes win.
        let four = r#"{"min_segments": 4, "target_seconds": 1000}"#;
        assert_eq!(starts(&run(&info, four)), vec![0, 500, 999, 1401]);
        // 80 s in 10 s segments: 8, even if the sparse keyframes after 999 make
        // two of them short...
        assert_eq!(
            starts(&run(&info, "")),
            vec![0, 133, 500, 760, 999, 1400, 1401, 1899]
        );
        // ...unless min_frames forbids it.
        let segments = run(&info, r#"{"min_frames": 100}"#);
        assert_eq!(starts(&segments), vec![0, 133, 500, 761, 999, 1400, 1899]);
    }

    #[test]
    fn a_single_keyframe_gives_one_segment() {
        let info = video(5000, 30, vec![0]);
        assert_eq!(
            run(&info, r#"{"min_segments": 8}"#),
            vec![Segment {
                start: 0,
                end: 5000
            }]
        );
    }

    #[test]
    fn a_single_frame_gives_one_segment() {
        let info = video(1, 30, vec![0]);
        assert_eq!(
            run(&info, r#"{"min_segments": 3}"#),
            vec![Segment { start: 0, end: 1 }]
        );
    }

    #[test]
    fn frame_zero_counts_as_a_keyframe() {
        let info = video(600, 30, vec![150, 300, 450]);
        let segments = SegmentKeyframes::plan(&info, r#"{"min_segments": 4}"#).unwrap();
        assert_eq!(starts(&segments), vec![0, 150, 300, 450]);
        // Keyframes past the end, unsorted or repeated, are tolerated.
        let info = video(600, 30, vec![450, 0, 300, 300, 150, 900]);
        assert_eq!(
            starts(&run(&info, r#"{"min_segments": 4}"#)),
            vec![0, 150, 300, 450]
        );
    }

    #[test]
    fn no_frame_rate_falls_back_to_duration_then_to_min_segments() {
        let mut info = video(1800, 30, every(60, 1800));
        info.frame_rate = Rational { num: 0, den: 0 };
        assert_eq!(run(&info, "").len(), 6, "from duration-us");
        info.duration_us = 0;
        assert_eq!(run(&info, "").len(), 1);
        assert_eq!(run(&info, r#"{"min_segments": 3}"#).len(), 3);
    }

    #[test]
    fn many_layouts_keep_the_invariants() {
        // A small deterministic generator, so failures reproduce.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below.max(1)
        };
        for _ in 0..400 {
            let frames = 1 + next(5000);
            let mut keyframes: Vec<u64> = (0..next(60)).map(|_| next(frames)).collect();
            keyframes.push(0);
            keyframes.sort_unstable();
            keyframes.dedup();
            let info = video(frames, 1 + next(60) as u32, keyframes);
            let min_segments = 1 + next(20);
            let params = format!(
                r#"{{"min_segments": {min_segments}, "max_segments": {}, "min_frames": {}, "target_seconds": {}}}"#,
                min_segments + next(10),
                1 + next(300),
                0.5 + next(30) as f64,
            );
            run(&info, &params);
        }
    }

    #[test]
    fn no_frames_is_an_error() {
        let err = SegmentKeyframes::plan(&video(0, 30, vec![]), "").unwrap_err();
        assert_eq!(err.field, None);
        assert!(err.message.contains("no frames"));
    }

    #[test]
    fn bad_params_name_the_field() {
        let info = video(100, 30, vec![0]);
        let field = |params: &str| SegmentKeyframes::plan(&info, params).unwrap_err().field;
        assert_eq!(
            field(r#"{"min_segments": 0}"#).as_deref(),
            Some("min_segments")
        );
        assert_eq!(
            field(r#"{"min_segments": 5, "max_segments": 4}"#).as_deref(),
            Some("max_segments")
        );
        assert_eq!(field(r#"{"min_frames": 0}"#).as_deref(), Some("min_frames"));
        assert_eq!(
            field(r#"{"target_seconds": 0}"#).as_deref(),
            Some("target_seconds")
        );
        assert_eq!(
            field(r#"{"target_seconds": -2.5}"#).as_deref(),
            Some("target_seconds")
        );
        assert_eq!(
            field(r#"{"target_seconds": "ten"}"#).as_deref(),
            Some("target_seconds")
        );
        assert_eq!(field(r#"{"segments": 3}"#).as_deref(), Some("segments"));
    }
}
