//! Binary morphology on byte bitmaps (0 = clear, 1 = set, `w * h` bytes, row after row):
//! square dilation and erosion, hole filling and connected components. Used to clean up detected
//! marks, to grow masks by a safety margin and to find the ring of pixels around a mask.
//!
//! Everything is iterative (whole-row passes, explicit queues): no recursion.

/// Sets every pixel within `r` pixels (Chebyshev distance: a square window) of a set pixel.
/// Row by row in both passes, each a few whole-row operations that vectorise: across, see
/// [`grow_row`]; down, a count per column of the set pixels in the window of rows, adding the
/// row entering it and taking away the row leaving it.
pub(crate) fn dilate(bits: &[u8], w: usize, h: usize, r: usize) -> Vec<u8> {
    if r == 0 || w == 0 {
        return bits.to_vec();
    }
    let mut horizontal = vec![0u8; w * h];
    let mut scratch = (Vec::new(), Vec::new());
    for (row, out) in bits.chunks_exact(w).zip(horizontal.chunks_exact_mut(w)) {
        grow_row(row, r, out, &mut scratch);
    }
    let row = |y: usize| &horizontal[y * w..][..w];
    let mut count = vec![0u32; w];
    for y in 0..r.min(h) {
        count
            .iter_mut()
            .zip(row(y))
            .for_each(|(c, &b)| *c += u32::from(b));
    }
    let mut out = vec![0u8; w * h];
    for (y, out) in out.chunks_exact_mut(w).enumerate() {
        if y + r < h {
            count
                .iter_mut()
                .zip(row(y + r))
                .for_each(|(c, &b)| *c += u32::from(b));
        }
        if let Some(leaving) = y.checked_sub(r + 1) {
            count
                .iter_mut()
                .zip(row(leaving))
                .for_each(|(c, &b)| *c -= u32::from(b));
        }
        out.iter_mut()
            .zip(&count)
            .for_each(|(o, &c)| *o = u8::from(c > 0));
    }
    out
}

/// Sets `out[x]` where any of `row[x - r ..= x + r]` is set. The row, with `r` clear pixels
/// either side, is ORed with itself shifted by 1, 2, 4, … pixels, so that each pixel holds its
/// window of the largest power of two `span` up to `2r + 1`; two such windows cover `2r + 1`.
fn grow_row(row: &[u8], r: usize, out: &mut [u8], (a, b): &mut (Vec<u8>, Vec<u8>)) {
    let len = row.len() + 2 * r;
    a.clear();
    a.resize(r, 0);
    a.extend(row.iter().map(|&v| u8::from(v != 0)));
    a.resize(len, 0);
    b.resize(len, 0);
    let mut span = 1;
    while 2 * span <= 2 * r + 1 {
        // b[x] = a[x] | a[x + span]: the window [x, x + 2 span).
        let (head, tail) = b.split_at_mut(len - span);
        head.iter_mut()
            .zip(a.iter().zip(&a[span..]))
            .for_each(|(o, (&p, &q))| *o = p | q);
        tail.copy_from_slice(&a[len - span..]);
        std::mem::swap(a, b);
        span *= 2;
    }
    let far = 2 * r + 1 - span;
    out.iter_mut()
        .zip(a.iter().zip(&a[far..]))
        .for_each(|(o, (&p, &q))| *o = p | q);
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
    fn dilation_sets_what_a_square_window_reaches() {
        let (w, h) = (23, 17);
        // A fixed scatter of points, some on the borders.
        let bits: Vec<u8> = (0..w * h).map(|i| u8::from((i * 7919) % 31 == 0)).collect();
        for r in 0..5 {
            let grown = dilate(&bits, w, h, r);
            for y in 0..h {
                for x in 0..w {
                    let reached = (y.saturating_sub(r)..(y + r + 1).min(h)).any(|sy| {
                        (x.saturating_sub(r)..(x + r + 1).min(w)).any(|sx| bits[sy * w + sx] != 0)
                    });
                    assert_eq!(grown[y * w + x], u8::from(reached), "({x}, {y}), r {r}");
                }
            }
        }
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
