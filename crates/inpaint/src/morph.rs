//! Binary morphology on byte bitmaps (0 = clear, 1 = set, `w * h` bytes, row after row):
//! square dilation and erosion, hole filling and connected components. Used to clean up detected
//! marks, to grow masks by a safety margin and to find the ring of pixels around a mask.
//!
//! Everything is iterative (prefix sums, explicit queues): no recursion.

/// Sets every pixel within `r` pixels (Chebyshev distance: a square window) of a set pixel.
pub(crate) fn dilate(bits: &[u8], w: usize, h: usize, r: usize) -> Vec<u8> {
    if r == 0 {
        return bits.to_vec();
    }
    let mut horizontal = vec![0u8; w * h];
    let mut prefix = vec![0u32; w.max(h) + 1];
    for y in 0..h {
        let row = &bits[y * w..(y + 1) * w];
        for x in 0..w {
            prefix[x + 1] = prefix[x] + u32::from(row[x] != 0);
        }
        for x in 0..w {
            let (lo, hi) = (x.saturating_sub(r), (x + r + 1).min(w));
            horizontal[y * w + x] = u8::from(prefix[hi] > prefix[lo]);
        }
    }
    let mut out = vec![0u8; w * h];
    for x in 0..w {
        for y in 0..h {
            prefix[y + 1] = prefix[y] + u32::from(horizontal[y * w + x] != 0);
        }
        for y in 0..h {
            let (lo, hi) = (y.saturating_sub(r), (y + r + 1).min(h));
            out[y * w + x] = u8::from(prefix[hi] > prefix[lo]);
        }
    }
    out
}

/// Clears every pixel within `r` pixels of a clear pixel; the outside of the image counts as set,
/// so shapes touching the border keep their border.
pub(crate) fn erode(bits: &[u8], w: usize, h: usize, r: usize) -> Vec<u8> {
    let inverted: Vec<u8> = bits.iter().map(|&b| u8::from(b == 0)).collect();
    dilate(&inverted, w, h, r)
        .into_iter()
        .map(|b| u8::from(b == 0))
        .collect()
}

/// Dilation then erosion: joins pieces closer than `2r` pixels.
pub(crate) fn close(bits: &[u8], w: usize, h: usize, r: usize) -> Vec<u8> {
    erode(&dilate(bits, w, h, r), w, h, r)
}

/// Erosion then dilation: removes specks thinner than `2r + 1` pixels.
pub(crate) fn open(bits: &[u8], w: usize, h: usize, r: usize) -> Vec<u8> {
    dilate(&erode(bits, w, h, r), w, h, r)
}

/// Sets the clear pixels that cannot reach the image border through clear pixels (4-connected).
pub(crate) fn fill_holes(bits: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut outside = vec![false; w * h];
    let mut queue = Vec::new();
    let seed = |i: usize, outside: &mut Vec<bool>, queue: &mut Vec<usize>| {
        if bits[i] == 0 && !outside[i] {
            outside[i] = true;
            queue.push(i);
        }
    };
    for x in 0..w {
        seed(x, &mut outside, &mut queue);
        seed((h - 1) * w + x, &mut outside, &mut queue);
    }
    for y in 0..h {
        seed(y * w, &mut outside, &mut queue);
        seed(y * w + w - 1, &mut outside, &mut queue);
    }
    while let Some(i) = queue.pop() {
        let (x, y) = (i % w, i / w);
        let mut visit = |j: usize| {
            if bits[j] == 0 && !outside[j] {
                outside[j] = true;
                queue.push(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < w {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - w);
        }
        if y + 1 < h {
            visit(i + w);
        }
    }
    bits.iter()
        .zip(&outside)
        .map(|(&b, &o)| u8::from(b != 0 || !o))
        .collect()
}

/// Labels the 8-connected components of set pixels: returns each pixel's label (0 = clear,
/// components numbered from 1) and each component's area (index `label - 1`).
pub(crate) fn components(bits: &[u8], w: usize, h: usize) -> (Vec<u32>, Vec<usize>) {
    let mut labels = vec![0u32; w * h];
    let mut areas = Vec::new();
    let mut queue = Vec::new();
    for start in 0..w * h {
        if bits[start] == 0 || labels[start] != 0 {
            continue;
        }
        let label = areas.len() as u32 + 1;
        let mut area = 0;
        labels[start] = label;
        queue.push(start);
        while let Some(i) = queue.pop() {
            area += 1;
            let (x, y) = ((i % w) as isize, (i / w) as isize);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if bits[j] != 0 && labels[j] == 0 {
                        labels[j] = label;
                        queue.push(j);
                    }
                }
            }
        }
        areas.push(area);
    }
    (labels, areas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(w: usize, h: usize, x0: usize, y0: usize, s: usize) -> Vec<u8> {
        let mut bits = vec![0u8; w * h];
        for y in y0..y0 + s {
            for x in x0..x0 + s {
                bits[y * w + x] = 1;
            }
        }
        bits
    }

    #[test]
    fn dilate_and_erode_grow_and_shrink_squares() {
        let bits = square(12, 10, 4, 4, 2);
        let grown = dilate(&bits, 12, 10, 2);
        assert_eq!(grown, square(12, 10, 2, 2, 6));
        assert_eq!(erode(&grown, 12, 10, 2), bits);
        assert_eq!(
            open(&square(12, 10, 4, 4, 3), 12, 10, 1),
            square(12, 10, 4, 4, 3)
        );
        assert_eq!(open(&square(12, 10, 4, 4, 1), 12, 10, 1), vec![0; 120]);
    }

    #[test]
    fn holes_fill_and_components_count() {
        let mut ring = square(8, 8, 1, 1, 5);
        ring[3 * 8 + 3] = 0;
        assert_eq!(fill_holes(&ring, 8, 8), square(8, 8, 1, 1, 5));
        let mut two = square(10, 10, 0, 0, 2);
        two[9 * 10 + 9] = 1;
        let (labels, areas) = components(&two, 10, 10);
        assert_eq!(areas, vec![4, 1]);
        assert_eq!(labels[99], 2);
        assert_eq!(close(&two, 10, 10, 1)[0], 1);
    }
}
