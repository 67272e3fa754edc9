//! Scene cuts: a frame whose picture around the mark has little to do with the one before.
//! Neither motion nor colour carries over a cut, so no frame restores another across one: it
//! is where the inpainter's temporal state starts afresh.
//!
//! A cut is a frame that no motion matches with the one before and whose luma histogram (32
//! bins, over the working region) moved by more than [`CUT_DISTANCE`] (the L1 distance of the
//! normalised histograms, 0 to 2). A fast pan or a passing object fails the match but keeps
//! the histogram; a cut changes both. Where no motion is measured (a semi-transparent mark on
//! a lossless input: no hole to fill, nothing to average), the histogram alone tells, and the
//! cut is only counted.

/// Histogram distance from which a frame that no motion matches is a cut.
const CUT_DISTANCE: f32 = 0.5;
/// Bins of the luma histogram.
const BINS: usize = 32;

/// Whether luma crop `b` starts a new scene after `a` (same size), given that no motion
/// matched them.
pub(crate) fn is_cut(a: &[u8], b: &[u8]) -> bool {
    histogram_distance(a, b) > CUT_DISTANCE
}

/// L1 distance between the normalised luma histograms of `a` and `b`.
fn histogram_distance(a: &[u8], b: &[u8]) -> f32 {
    let histogram = |plane: &[u8]| {
        let mut bins = [0u32; BINS];
        for &v in plane {
            bins[usize::from(v) * BINS / 256] += 1;
        }
        bins
    };
    let (ha, hb) = (histogram(a), histogram(b));
    let (na, nb) = (a.len().max(1) as f32, b.len().max(1) as f32);
    ha.iter()
        .zip(&hb)
        .map(|(&x, &y)| (x as f32 / na - y as f32 / nb).abs())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_picture_is_no_cut_and_another_one_is() {
        let picture: Vec<u8> = (0..64 * 48).map(|i| ((i * 37) % 200 + 20) as u8).collect();
        let shifted: Vec<u8> = picture[5..].iter().chain(&picture[..5]).copied().collect();
        let other: Vec<u8> = picture.iter().map(|&v| 255 - v / 3).collect();
        assert!(!is_cut(&picture, &shifted));
        assert!(is_cut(&picture, &other));
        assert!(histogram_distance(&picture, &picture) == 0.0);
    }
}
