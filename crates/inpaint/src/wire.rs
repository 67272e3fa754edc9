//! Conversions between [`Mask`] and [`LogoModel`] and the forms a plan
//! carries them in ([`MaskRuns`], [`MarkPlanes`] of `framejet-spec`), so
//! that a detected mask and an estimated mark reach every machine that runs
//! a segment. A carried form is checked when converted: one of the wrong
//! shape is an error, never a panic later.

use framejet_spec::plan::{MarkPlane, MarkPlanes, MaskRuns};

use crate::error::InpaintError;
use crate::logo::{LogoModel, LogoPlane};
use crate::mask::{Bounds, Mask};

impl From<&Mask> for MaskRuns {
    fn from(mask: &Mask) -> MaskRuns {
        let mut runs: Vec<[usize; 2]> = Vec::new();
        for y in 0..mask.height() {
            for x in 0..mask.width() {
                if mask.contains(x, y) {
                    let i = y * mask.width() + x;
                    match runs.last_mut() {
                        Some([start, len]) if *start + *len == i => *len += 1,
                        _ => runs.push([i, 1]),
                    }
                }
            }
        }
        MaskRuns {
            width: mask.width(),
            height: mask.height(),
            runs,
        }
    }
}

impl TryFrom<&MaskRuns> for Mask {
    type Error = InpaintError;

    fn try_from(wire: &MaskRuns) -> Result<Mask, InpaintError> {
        wire.check().map_err(|reason| InpaintError::Carried {
            what: "mask",
            reason,
        })?;
        let mut bits = vec![0u8; wire.width * wire.height];
        for &[start, len] in &wire.runs {
            bits[start..start + len].fill(1);
        }
        Mask::from_bits(wire.width, wire.height, &bits)
    }
}

impl From<&LogoModel> for MarkPlanes {
    fn from(model: &LogoModel) -> MarkPlanes {
        let plane = |p: &LogoPlane| MarkPlane {
            region: [p.bounds.x0, p.bounds.y0, p.bounds.x1, p.bounds.y1],
            alpha: p.alpha.clone(),
            premul: p.premul.clone(),
        };
        let [y, u, v] = model.planes();
        MarkPlanes {
            width: model.width(),
            height: model.height(),
            planes: [plane(y), plane(u), plane(v)],
            support: model.support(),
        }
    }
}

impl TryFrom<&MarkPlanes> for LogoModel {
    type Error = InpaintError;

    fn try_from(wire: &MarkPlanes) -> Result<LogoModel, InpaintError> {
        wire.check().map_err(|reason| InpaintError::Carried {
            what: "mark model",
            reason,
        })?;
        let planes = wire.planes.clone().map(|p| {
            let [x0, y0, x1, y1] = p.region;
            LogoPlane {
                bounds: Bounds { x0, y0, x1, y1 },
                alpha: p.alpha,
                premul: p.premul,
            }
        });
        Ok(LogoModel::from_planes(wire.width, wire.height, planes).with_support(wire.support))
    }
}

#[cfg(test)]
mod tests {
    use framejet_spec::plan::{MarkPlane, MarkPlanes, MaskRuns};

    use crate::{InpaintConfig, Inpainter, LogoModel, MarkModel, Mask, Rect};

    #[test]
    fn a_carried_mark_with_nothing_visible_leaves_the_mask_as_given() {
        let plane = |region: [usize; 4], n: usize| MarkPlane {
            region,
            alpha: vec![0.0; n],
            premul: vec![0.0; n],
        };
        let carried = MarkPlanes {
            width: 64,
            height: 48,
            planes: [
                plane([8, 8, 24, 16], 128),
                plane([4, 4, 12, 8], 32),
                plane([4, 4, 12, 8], 32),
            ],
            support: None,
        };
        let model = LogoModel::try_from(&carried).unwrap();
        assert_eq!(MarkPlanes::from(&model), carried);
        let mask = Mask::from_rect(Rect::new(8, 8, 16, 8), 64, 48).unwrap();
        let config = InpaintConfig::default().mark(MarkModel::Given(model));
        let inpainter = Inpainter::new(config, mask.clone()).unwrap();
        assert_eq!(inpainter.mask().iou(&mask), 1.0);
    }

    #[test]
    fn a_mask_reads_back_the_same() {
        let mask = Mask::from_rect(Rect::new(10, 20, 30, 5), 64, 48).unwrap();
        let runs = MaskRuns::from(&mask);
        let back = Mask::try_from(&runs).unwrap();
        assert_eq!(back.iou(&mask), 1.0);
        assert_eq!(back.count(), 150);
        let outside = MaskRuns {
            width: 4,
            height: 4,
            runs: vec![[14, 5]],
        };
        assert!(Mask::try_from(&outside).is_err());
    }
}
