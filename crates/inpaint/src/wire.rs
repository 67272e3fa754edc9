//! Serde forms of [`Mask`] and [`LogoModel`], so that a plan can carry a
//! detected mask and an estimated mark to every machine that runs a
//! segment. Both are checked when read: a value of the wrong shape is an
//! error, never a panic later.
//!
//! A mask travels as runs of masked luma pixels (`[start, length]`, row
//! after row); a model as its planes' regions with their `alpha` and
//! `premul` values.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::logo::{LogoModel, LogoPlane};
use crate::mask::{Bounds, Mask};
use crate::plane::chroma_size;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaskWire {
    width: usize,
    height: usize,
    /// Runs of masked luma pixels, `[start, length]`, in reading order.
    runs: Vec<[usize; 2]>,
}

impl Serialize for Mask {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut runs: Vec<[usize; 2]> = Vec::new();
        for y in 0..self.height() {
            for x in 0..self.width() {
                if self.contains(x, y) {
                    let i = y * self.width() + x;
                    match runs.last_mut() {
                        Some([start, len]) if *start + *len == i => *len += 1,
                        _ => runs.push([i, 1]),
                    }
                }
            }
        }
        MaskWire {
            width: self.width(),
            height: self.height(),
            runs,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Mask {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = MaskWire::deserialize(d)?;
        let total = wire
            .width
            .checked_mul(wire.height)
            .filter(|&t| t > 0 && t <= 1 << 28)
            .ok_or_else(|| D::Error::custom("mask size out of range"))?;
        let mut bits = vec![0u8; total];
        for [start, len] in wire.runs {
            let end = start
                .checked_add(len)
                .filter(|&e| e <= total)
                .ok_or_else(|| D::Error::custom("mask run outside the frame"))?;
            bits[start..end].fill(1);
        }
        Mask::from_bits(wire.width, wire.height, &bits).map_err(D::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaneWire {
    /// `[x0, y0, x1, y1]` of the region, half-open, in plane pixels.
    region: [usize; 4],
    alpha: Vec<f32>,
    premul: Vec<f32>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogoWire {
    width: usize,
    height: usize,
    planes: [PlaneWire; 3],
}

impl Serialize for LogoModel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let plane = |p: &LogoPlane| PlaneWire {
            region: [p.bounds.x0, p.bounds.y0, p.bounds.x1, p.bounds.y1],
            alpha: p.alpha.clone(),
            premul: p.premul.clone(),
        };
        let [y, u, v] = self.planes();
        LogoWire {
            width: self.width(),
            height: self.height(),
            planes: [plane(y), plane(u), plane(v)],
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for LogoModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let LogoWire {
            width,
            height,
            planes,
        } = LogoWire::deserialize(d)?;
        if width == 0 || height == 0 || width > 1 << 15 || height > 1 << 15 {
            return Err(D::Error::custom("mark model size out of range"));
        }
        let (cw, ch) = chroma_size(width, height);
        let sizes = [(width, height), (cw, ch), (cw, ch)];
        let mut out = Vec::with_capacity(3);
        for (p, (wire, (pw, ph))) in planes.into_iter().zip(sizes).enumerate() {
            let [x0, y0, x1, y1] = wire.region;
            let inside = x0 <= x1 && y0 <= y1 && x1 <= pw && y1 <= ph;
            let area = (x1.saturating_sub(x0)) * (y1.saturating_sub(y0));
            if !inside || wire.alpha.len() != area || wire.premul.len() != area {
                return Err(D::Error::custom(format!(
                    "mark model plane {p}: region or values do not fit a {pw}x{ph} plane"
                )));
            }
            let finite = wire.alpha.iter().chain(&wire.premul).all(|v| v.is_finite());
            if !finite {
                return Err(D::Error::custom(format!(
                    "mark model plane {p}: values must be finite"
                )));
            }
            out.push(LogoPlane {
                bounds: Bounds { x0, y0, x1, y1 },
                alpha: wire.alpha,
                premul: wire.premul,
            });
        }
        let planes: [LogoPlane; 3] = out
            .try_into()
            .map_err(|_| D::Error::custom("mark model: three planes"))?;
        Ok(LogoModel::from_planes(width, height, planes))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Mask, Rect};

    #[test]
    fn a_mask_reads_back_the_same() {
        let mask = Mask::from_rect(Rect::new(10, 20, 30, 5), 64, 48).unwrap();
        let text = serde_json::to_string(&mask).unwrap();
        let back: Mask = serde_json::from_str(&text).unwrap();
        assert_eq!(back.iou(&mask), 1.0);
        assert_eq!(back.count(), 150);
        assert!(serde_json::from_str::<Mask>(r#"{"width":4,"height":4,"runs":[[14,5]]}"#).is_err());
    }
}
