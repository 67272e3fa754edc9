//! Text rendered into sprites: one line of text at a pixel size, in a colour,
//! with an optional outline (feature `text`, on by default).
//!
//! The built-in font is DejaVu Sans Bold (licence in the SDK's `fonts/`
//! folder); [`Font::from_bytes`] takes any TrueType or OpenType font, such as a
//! job asset read with [`host::asset`]. The font is only
//! compiled into plugins that call [`Font::builtin`].
//!
//! Render whole strings with [`Font::render`], or, to show letters one by one,
//! lay the text out once with [`Font::layout`], render each distinct glyph once
//! with [`Font::render_glyph`], and place the glyph sprites per frame: first
//! every shown glyph's outline, then every shown glyph's fill. That order gives
//! exactly the picture [`Font::render`] draws for the same letters.
//!
//! ```
//! use framejet_sdk::text::{Font, Outline, TextStyle};
//! use framejet_sdk::Rgba;
//!
//! let style = TextStyle {
//!     size_px: 48.0,
//!     color: Rgba::WHITE,
//!     outline: Some(Outline { width_px: 2, color: Rgba::BLACK }),
//! };
//! let sprite = Font::builtin().render("Hello", &style);
//! assert!(sprite.width > 100 && sprite.height > 40);
//! assert_eq!(sprite.rgba.len(), (sprite.width * sprite.height * 4) as usize);
//! // In a plugin's `create`: let id = sprite.define()?;
//! ```

use crate::{Rgba, host};

static BUILTIN_FONT: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// How text looks.
#[derive(Clone, Debug, PartialEq)]
pub struct TextStyle {
    /// The font size in pixels (the em square's height). A size that is not
    /// a positive number renders nothing.
    pub size_px: f32,
    /// The colour of the letters.
    pub color: Rgba,
    /// A line drawn around each letter, if any.
    pub outline: Option<Outline>,
}

impl Default for TextStyle {
    /// 64 px, white, no outline.
    fn default() -> Self {
        TextStyle {
            size_px: 64.0,
            color: Rgba::WHITE,
            outline: None,
        }
    }
}

/// A line around each letter, `width_px` wide, outside the letter's shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outline {
    /// Width in pixels; 0 draws nothing.
    pub width_px: u32,
    /// Colour of the line.
    pub color: Rgba,
}

/// An RGBA image (straight alpha, row by row), ready for
/// [`host::define_sprite`].
#[derive(Clone, Debug, PartialEq)]
pub struct Sprite {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` pixels, 4 bytes each.
    pub rgba: Vec<u8>,
}

impl Sprite {
    /// A fully transparent image.
    pub fn transparent(width: u32, height: u32) -> Sprite {
        Sprite {
            width,
            height,
            rgba: vec![0; width as usize * height as usize * 4],
        }
    }

    /// Whether the image has no pixel (the host refuses such sprites).
    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// Hands the image to the host and returns the sprite id to place with
    /// [`DrawOp::Sprite`](crate::DrawOp::Sprite).
    pub fn define(&self) -> Result<u32, String> {
        host::define_sprite(self.width, self.height, &self.rgba)
    }

    /// Draws `layer` over this image with its top-left corner at (`x`, `y`),
    /// clipping what falls outside (straight-alpha "source over").
    pub fn draw(&mut self, layer: &Sprite, x: i32, y: i32) {
        for row in 0..layer.height as i32 {
            let ty = y + row;
            if ty < 0 || ty >= self.height as i32 {
                continue;
            }
            for col in 0..layer.width as i32 {
                let tx = x + col;
                if tx < 0 || tx >= self.width as i32 {
                    continue;
                }
                let src = (row as usize * layer.width as usize + col as usize) * 4;
                let dst = (ty as usize * self.width as usize + tx as usize) * 4;
                blend_over(&mut self.rgba[dst..dst + 4], &layer.rgba[src..src + 4]);
            }
        }
    }
}

/// `dst = src over dst`, straight alpha, 8 bits per channel.
fn blend_over(dst: &mut [u8], src: &[u8]) {
    let sa = f32::from(src[3]) / 255.0;
    if sa <= 0.0 {
        return;
    }
    let da = f32::from(dst[3]) / 255.0;
    let out_a = sa + da * (1.0 - sa);
    for c in 0..3 {
        let value = (f32::from(src[c]) * sa + f32::from(dst[c]) * da * (1.0 - sa)) / out_a;
        dst[c] = value.round().clamp(0.0, 255.0) as u8;
    }
    dst[3] = (out_a * 255.0).round().clamp(0.0, 255.0) as u8;
}

/// Where the glyphs of a line of text go, from [`Font::layout`].
#[derive(Clone, Debug, PartialEq)]
pub struct TextLayout {
    /// Width of the whole text's box, in pixels (outline included).
    pub width: u32,
    /// Height of the whole text's box, in pixels (outline included).
    pub height: u32,
    /// One entry per character that is not whitespace, in text order.
    pub glyphs: Vec<PlacedGlyph>,
}

/// One character of a [`TextLayout`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlacedGlyph {
    /// The character.
    pub ch: char,
    /// Left edge of the character's sprites ([`Font::render_glyph`]) relative to
    /// the text box's left edge.
    pub x: i32,
    /// Top edge of the character's sprites relative to the text box's top.
    pub y: i32,
}

/// The sprites of one character, both of the same size, from
/// [`Font::render_glyph`].
#[derive(Clone, Debug, PartialEq)]
pub struct GlyphSprites {
    /// The letter itself.
    pub fill: Sprite,
    /// The outline around it, when the style has one; draw it first.
    pub outline: Option<Sprite>,
}

/// A parsed font.
pub struct Font {
    inner: fontdue::Font,
}

impl Font {
    /// DejaVu Sans Bold, compiled into the plugin (about 700 KB of it).
    pub fn builtin() -> Font {
        // The bundled file is a known-good font: failing to parse it is a bug
        // in the SDK, not something params or the host can cause.
        Font::from_bytes(BUILTIN_FONT).expect("the built-in font parses")
    }

    /// Parses a TrueType (`.ttf`) or OpenType (`.otf`) font.
    pub fn from_bytes(bytes: &[u8]) -> Result<Font, String> {
        let settings = fontdue::FontSettings::default();
        let inner = fontdue::Font::from_bytes(bytes, settings)
            .map_err(|err| format!("not a usable font: {err}"))?;
        Ok(Font { inner })
    }

    /// Lays `text` out on one line: where each non-whitespace character's
    /// sprites go, and the size of the whole text's box. Kerning applies;
    /// whitespace only advances the pen.
    pub fn layout(&self, text: &str, style: &TextStyle) -> TextLayout {
        if !usable_size(style.size_px) {
            return TextLayout {
                width: 0,
                height: 0,
                glyphs: Vec::new(),
            };
        }
        let px = style.size_px;
        let pad = pad_of(style);
        let (ascent, descent) = match self.inner.horizontal_line_metrics(px) {
            Some(line) => (line.ascent, line.descent),
            None => (px * 0.8, -px * 0.2),
        };
        let baseline = pad + ascent.ceil() as i32;
        let line_height = 2 * pad + (ascent - descent).ceil() as i32;

        let mut glyphs = Vec::new();
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (0, 0, 0, line_height);
        let mut pen = pad as f32;
        let mut previous: Option<char> = None;
        for ch in text.chars() {
            if let Some(prev) = previous {
                pen += self.inner.horizontal_kern(prev, ch, px).unwrap_or(0.0);
            }
            let metrics = self.inner.metrics(ch, px);
            if !ch.is_whitespace() {
                let x = pen.round() as i32 + metrics.xmin - pad;
                let y = baseline - (metrics.ymin + metrics.height as i32) - pad;
                min_x = min_x.min(x);
                min_y = min_y.min(y);
                max_x = max_x.max(x + metrics.width as i32 + 2 * pad);
                max_y = max_y.max(y + metrics.height as i32 + 2 * pad);
                glyphs.push(PlacedGlyph { ch, x, y });
            }
            pen += metrics.advance_width;
            previous = Some(ch);
        }
        max_x = max_x.max(pen.ceil() as i32 + pad);
        for glyph in &mut glyphs {
            glyph.x -= min_x;
            glyph.y -= min_y;
        }
        TextLayout {
            width: (max_x - min_x) as u32,
            height: (max_y - min_y) as u32,
            glyphs,
        }
    }

    /// Renders one character: its fill and, when the style has an outline,
    /// the outline, both sized to include the outline. Place them at the
    /// character's [`PlacedGlyph`] position.
    pub fn render_glyph(&self, ch: char, style: &TextStyle) -> GlyphSprites {
        if !usable_size(style.size_px) {
            let outline = style.outline.map(|_| Sprite::transparent(0, 0));
            return GlyphSprites {
                fill: Sprite::transparent(0, 0),
                outline,
            };
        }
        let (metrics, coverage) = self.inner.rasterize(ch, style.size_px);
        let pad = pad_of(style) as usize;
        let (gw, gh) = (metrics.width, metrics.height);
        let (width, height) = (gw + 2 * pad, gh + 2 * pad);

        // Coverage of the padded box, 0-255.
        let mut padded = vec![0u8; width * height];
        for row in 0..gh {
            let dst = (row + pad) * width + pad;
            padded[dst..dst + gw].copy_from_slice(&coverage[row * gw..(row + 1) * gw]);
        }

        let fill = tinted(&padded, width, height, style.color);
        let outline = style.outline.filter(|o| o.width_px > 0).map(|o| {
            let alpha = outline_alpha(&padded, width, height, o.width_px as f32);
            tinted(&alpha, width, height, o.color)
        });
        GlyphSprites { fill, outline }
    }

    /// Renders `text` on one line into a single sprite of the size
    /// [`Font::layout`] gives, outline (if any) under the letters.
    pub fn render(&self, text: &str, style: &TextStyle) -> Sprite {
        let layout = self.layout(text, style);
        let mut canvas = Sprite::transparent(layout.width, layout.height);
        let glyphs: Vec<(PlacedGlyph, GlyphSprites)> = layout
            .glyphs
            .iter()
            .map(|g| (*g, self.render_glyph(g.ch, style)))
            .collect();
        for (place, sprites) in &glyphs {
            if let Some(outline) = &sprites.outline {
                canvas.draw(outline, place.x, place.y);
            }
        }
        for (place, sprites) in &glyphs {
            canvas.draw(&sprites.fill, place.x, place.y);
        }
        canvas
    }
}

/// Whether text can be drawn at `size_px`.
fn usable_size(size_px: f32) -> bool {
    size_px.is_finite() && size_px > 0.0
}

/// Room around each glyph for its outline.
fn pad_of(style: &TextStyle) -> i32 {
    style
        .outline
        .map_or(0, |o| o.width_px.min(i32::MAX as u32 / 4) as i32)
}

/// Coverage (0-255) turned into pixels of `color`, alpha scaled by coverage.
fn tinted(coverage: &[u8], width: usize, height: usize, color: Rgba) -> Sprite {
    let mut rgba = Vec::with_capacity(coverage.len() * 4);
    for &c in coverage {
        let a = (u32::from(c) * u32::from(color.a) + 127) / 255;
        rgba.extend_from_slice(&[color.r, color.g, color.b, a as u8]);
    }
    Sprite {
        width: width as u32,
        height: height as u32,
        rgba,
    }
}

/// Alpha of an outline `radius` px wide around the shape in `coverage`: full
/// within `radius` of the shape, fading over the last pixel, and never less
/// than the shape's own coverage.
fn outline_alpha(coverage: &[u8], width: usize, height: usize, radius: f32) -> Vec<u8> {
    let inside: Vec<bool> = coverage.iter().map(|&c| c >= 128).collect();
    let distance = distance_to_inside(&inside, width, height);
    coverage
        .iter()
        .zip(distance)
        .map(|(&c, d)| {
            let ring = (radius + 0.5 - d).clamp(0.0, 1.0) * 255.0;
            ring.round().max(f32::from(c)) as u8
        })
        .collect()
}

/// Euclidean distance from each pixel to the nearest `inside` pixel
/// (Felzenszwalb & Huttenlocher's two-pass transform, linear time).
fn distance_to_inside(inside: &[bool], width: usize, height: usize) -> Vec<f32> {
    const FAR: f32 = 1e20;
    let mut squared: Vec<f32> = inside.iter().map(|&i| if i { 0.0 } else { FAR }).collect();
    let mut line = Vec::with_capacity(width.max(height));
    let mut out = vec![0.0; width.max(height)];
    for x in 0..width {
        line.clear();
        line.extend((0..height).map(|y| squared[y * width + x]));
        squared_distance_1d(&line, &mut out[..height]);
        for y in 0..height {
            squared[y * width + x] = out[y];
        }
    }
    for y in 0..height {
        let row = &mut squared[y * width..(y + 1) * width];
        line.clear();
        line.extend_from_slice(row);
        squared_distance_1d(&line, &mut out[..width]);
        row.copy_from_slice(&out[..width]);
    }
    squared.into_iter().map(f32::sqrt).collect()
}

/// One dimension of the distance transform: `out[q] = min_p (q - p)² + f[p]`,
/// by the lower envelope of the parabolas rooted at each `p`.
fn squared_distance_1d(f: &[f32], out: &mut [f32]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let mut roots = vec![0usize; n];
    let mut bounds = vec![0f32; n + 1];
    let mut k = 0;
    bounds[0] = f32::NEG_INFINITY;
    bounds[1] = f32::INFINITY;
    let intersect = |q: usize, p: usize| {
        let (qf, pf) = (q as f32, p as f32);
        ((f[q] + qf * qf) - (f[p] + pf * pf)) / (2.0 * qf - 2.0 * pf)
    };
    for q in 1..n {
        let mut s = intersect(q, roots[k]);
        while s <= bounds[k] {
            k -= 1;
            s = intersect(q, roots[k]);
        }
        k += 1;
        roots[k] = q;
        bounds[k] = s;
        bounds[k + 1] = f32::INFINITY;
    }
    k = 0;
    for (q, slot) in out.iter_mut().enumerate() {
        while bounds[k + 1] < q as f32 {
            k += 1;
        }
        let d = q as f32 - roots[k] as f32;
        *slot = d * d + f[roots[k]];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(outline: u32) -> TextStyle {
        TextStyle {
            size_px: 32.0,
            color: Rgba::WHITE,
            outline: (outline > 0).then_some(Outline {
                width_px: outline,
                color: Rgba::BLACK,
            }),
        }
    }

    #[test]
    fn layout_skips_spaces_and_moves_right() {
        let font = Font::builtin();
        let layout = font.layout("AB CD", &style(2));
        let chars: String = layout.glyphs.iter().map(|g| g.ch).collect();
        assert_eq!(chars, "ABCD");
        assert!(layout.glyphs.windows(2).all(|w| w[0].x < w[1].x));
        assert!(layout.glyphs.iter().all(|g| g.x >= 0 && g.y >= 0));
        // The space is wider than the gap between two letters.
        let gap_ab = layout.glyphs[1].x - layout.glyphs[0].x;
        let gap_bc = layout.glyphs[2].x - layout.glyphs[1].x;
        assert!(gap_bc > gap_ab);
    }

    #[test]
    fn glyph_sprites_fit_the_layout() {
        let font = Font::builtin();
        let style = style(3);
        let layout = font.layout("Wow!", &style);
        for glyph in &layout.glyphs {
            let sprites = font.render_glyph(glyph.ch, &style);
            let outline = sprites.outline.expect("outline requested");
            assert_eq!(
                (outline.width, outline.height),
                (sprites.fill.width, sprites.fill.height)
            );
            assert!(glyph.x as u32 + sprites.fill.width <= layout.width);
            assert!(glyph.y as u32 + sprites.fill.height <= layout.height);
        }
    }

    #[test]
    fn render_draws_fill_over_outline() {
        let font = Font::builtin();
        let sprite = font.render("I", &style(4));
        let pixels: Vec<&[u8]> = sprite.rgba.chunks(4).collect();
        let white = pixels.iter().filter(|p| p[3] == 255 && p[0] == 255).count();
        let black = pixels.iter().filter(|p| p[3] == 255 && p[0] == 0).count();
        assert!(white > 50, "letter pixels: {white}");
        assert!(black > 50, "outline pixels: {black}");
        // No outline: only the letter's colour.
        let plain = font.render("I", &style(0));
        assert!(plain.rgba.chunks(4).all(|p| p[3] == 0 || p[0] == 255));
    }

    #[test]
    fn distance_transform_matches_brute_force() {
        let (w, h) = (9, 7);
        let inside: Vec<bool> = (0..w * h).map(|i| i == 10 || i == 40 || i == 41).collect();
        let fast = distance_to_inside(&inside, w, h);
        for y in 0..h {
            for x in 0..w {
                let brute = (0..w * h)
                    .filter(|&i| inside[i])
                    .map(|i| {
                        let (ix, iy) = ((i % w) as f32, (i / w) as f32);
                        ((ix - x as f32).powi(2) + (iy - y as f32).powi(2)).sqrt()
                    })
                    .fold(f32::INFINITY, f32::min);
                assert!((fast[y * w + x] - brute).abs() < 1e-4, "at {x},{y}");
            }
        }
    }

    #[test]
    fn unusable_sizes_render_nothing() {
        let font = Font::builtin();
        for size_px in [0.0, -3.0, f32::NAN, f32::INFINITY] {
            let style = TextStyle {
                size_px,
                ..style(2)
            };
            assert!(font.render("Hi", &style).is_empty());
            assert!(font.render_glyph('H', &style).fill.is_empty());
        }
    }

    #[test]
    fn bad_font_bytes_are_an_error() {
        assert!(Font::from_bytes(b"not a font").is_err());
    }

    #[test]
    fn sprite_defines_through_the_host() {
        crate::testing::reset();
        let sprite = Font::builtin().render("A", &style(1));
        let id = sprite.define().unwrap();
        assert_eq!(crate::testing::sprites()[0].id, id);
        assert!(Sprite::transparent(0, 3).define().is_err());
    }
}
