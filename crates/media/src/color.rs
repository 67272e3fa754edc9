//! RGB → YUV conversion for the colours this crate draws (pad colours, overlays, stills).
//!
//! Output is 8-bit limited range ("TV range": Y 16–235, U/V 16–240). The matrix follows the
//! frame height, as players assume for untagged video and as the [`Encoder`](crate::Encoder)
//! tags its output: BT.709 from 720 lines up, BT.601 below.

/// Which RGB↔YUV matrix a frame uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMatrix {
    /// ITU-R BT.601 (SD video).
    Bt601,
    /// ITU-R BT.709 (HD video).
    Bt709,
}

impl ColorMatrix {
    /// The matrix for a frame of this height: BT.709 for ≥ 720 lines, BT.601 below.
    pub fn for_height(height: u32) -> ColorMatrix {
        if height >= 720 {
            ColorMatrix::Bt709
        } else {
            ColorMatrix::Bt601
        }
    }

    /// Fixed-point (×2¹⁶) coefficients, derived from the matrix's Kr/Kb.
    pub(crate) fn coefficients(self) -> Coefficients {
        let (kr, kb) = match self {
            ColorMatrix::Bt601 => (0.299_f64, 0.114_f64),
            ColorMatrix::Bt709 => (0.2126, 0.0722),
        };
        let kg = 1.0 - kr - kb;
        let one = f64::from(1 << 16);
        let ys = 219.0 / 255.0;
        let cs = 224.0 / 255.0;
        let q = |v: f64| (v * one).round() as i32;
        Coefficients {
            y: [q(kr * ys), q(kg * ys), q(kb * ys)],
            u: [
                q(-kr / (2.0 * (1.0 - kb)) * cs),
                q(-kg / (2.0 * (1.0 - kb)) * cs),
                q(0.5 * cs),
            ],
            v: [
                q(0.5 * cs),
                q(-kg / (2.0 * (1.0 - kr)) * cs),
                q(-kb / (2.0 * (1.0 - kr)) * cs),
            ],
        }
    }

    /// Converts one RGB colour.
    pub fn rgb_to_yuv(self, rgb: [u8; 3]) -> [u8; 3] {
        self.coefficients().convert(rgb)
    }
}

/// Fixed-point conversion coefficients (×2¹⁶) for Y, U and V rows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Coefficients {
    y: [i32; 3],
    u: [i32; 3],
    v: [i32; 3],
}

impl Coefficients {
    /// RGB → limited-range YUV with rounding; the results are always within 16–240.
    #[inline]
    pub(crate) fn convert(&self, [r, g, b]: [u8; 3]) -> [u8; 3] {
        let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
        let half = 1 << 15;
        let y = (self.y[0] * r + self.y[1] * g + self.y[2] * b + (16 << 16) + half) >> 16;
        let u = (self.u[0] * r + self.u[1] * g + self.u[2] * b + (128 << 16) + half) >> 16;
        let v = (self.v[0] * r + self.v[1] * g + self.v[2] * b + (128 << 16) + half) >> 16;
        [
            y.clamp(0, 255) as u8,
            u.clamp(0, 255) as u8,
            v.clamp(0, 255) as u8,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primaries_and_greys() {
        for m in [ColorMatrix::Bt601, ColorMatrix::Bt709] {
            assert_eq!(m.rgb_to_yuv([0, 0, 0]), [16, 128, 128]);
            assert_eq!(m.rgb_to_yuv([255, 255, 255]), [235, 128, 128]);
        }
        // Reference values from the BT.709 / BT.601 limited-range equations.
        assert_eq!(ColorMatrix::Bt709.rgb_to_yuv([255, 0, 0]), [63, 102, 240]);
        assert_eq!(ColorMatrix::Bt601.rgb_to_yuv([255, 0, 0]), [81, 90, 240]);
        assert_eq!(ColorMatrix::Bt709.rgb_to_yuv([0, 0, 255]), [32, 240, 118]);
    }
}
