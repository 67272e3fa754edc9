//! Colours: constants, `#RRGGBB` / `#RRGGBBAA` parsing, and reading an
//! [`Rgba`] straight from params.

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::Rgba;

impl Rgba {
    /// Opaque white.
    pub const WHITE: Rgba = Rgba::opaque(255, 255, 255);
    /// Opaque black.
    pub const BLACK: Rgba = Rgba::opaque(0, 0, 0);
    /// Fully transparent black.
    pub const TRANSPARENT: Rgba = Rgba {
        r: 0,
        g: 0,
        b: 0,
        a: 0,
    };

    /// An opaque colour.
    pub const fn opaque(r: u8, g: u8, b: u8) -> Rgba {
        Rgba { r, g, b, a: 255 }
    }

    /// Parses `#RRGGBB` (opaque) or `#RRGGBBAA`, hex digits in either case.
    ///
    /// ```
    /// # use framejet_sdk::Rgba;
    /// assert_eq!(Rgba::from_hex("#ff8000"), Some(Rgba { r: 255, g: 128, b: 0, a: 255 }));
    /// assert_eq!(Rgba::from_hex("#FF800080").map(|c| c.a), Some(128));
    /// assert_eq!(Rgba::from_hex("orange"), None);
    /// ```
    pub fn from_hex(text: &str) -> Option<Rgba> {
        let hex = text.strip_prefix('#')?;
        if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        let a = if hex.len() == 8 { byte(6)? } else { 255 };
        Some(Rgba {
            r: byte(0)?,
            g: byte(2)?,
            b: byte(4)?,
            a,
        })
    }
}

/// Params can hold colours as `"#RRGGBB"` or `"#RRGGBBAA"` strings.
impl<'de> Deserialize<'de> for Rgba {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexColor;

        impl Visitor<'_> for HexColor {
            type Value = Rgba;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a colour as \"#RRGGBB\" or \"#RRGGBBAA\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Rgba, E> {
                Rgba::from_hex(text)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
            }
        }

        deserializer.deserialize_str(HexColor)
    }
}
