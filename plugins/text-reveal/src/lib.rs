//! `text-reveal`: words that appear letter by letter, like typing.
//!
//! Params:
//!
//! | key                 | default      | meaning                                                  |
//! |---------------------|--------------|----------------------------------------------------------|
//! | `words`             | (required)   | the words, shown on one line separated by a space        |
//! | `delay_s`           | `0`          | when the first letter appears, in seconds                |
//! | `letter_interval_s` | `0.08`       | time between one letter and the next                     |
//! | `word_gap_s`        | `0`          | extra pause before each word after the first             |
//! | `hold_s`            | none         | how long the full text stays once complete; none: to the end |
//! | `color`             | `"#FFFFFF"`  | letter colour, `#RRGGBB` or `#RRGGBBAA`                  |
//! | `size`              | `64`         | font size in pixels (1 to 1000)                          |
//! | `outline`           | `2`          | outline width in pixels (0 to 64; 0 for none)            |
//! | `outline_color`     | `"#000000"`  | outline colour                                           |
//! | `position`          | `"center"`   | `center`, `top` or `bottom`, horizontally centred        |
//! | `margin`            | `48`         | pixels between the text and the edge for `top`/`bottom`  |
//! | `x`, `y`            | none         | the text box's top-left corner in pixels, instead of `position` |
//!
//! Letter `k` of the whole text (counting letters only, not spaces), in word
//! `w` (both from 0), appears at `delay_s + k * letter_interval_s + w * word_gap_s`
//! and stays; with `hold_s`, all of it disappears `hold_s` after the last
//! letter appeared. Times are compared in whole microseconds with the frame's
//! `pts-us`.
//!
//! The text is DejaVu Sans Bold. `create` lays the line out once and defines
//! two sprites per distinct character (its outline and its fill), so a frame
//! only picks sprite ids: the outlines of the letters shown so far, then their
//! fills, which looks exactly like the whole text rendered at once.

use std::collections::BTreeMap;

use framejet_sdk::prelude::*;
use framejet_sdk::text::{Font, Outline, TextLayout, TextStyle};
use framejet_sdk::{log, params};
use serde::Deserialize;

/// More letters than this would make every frame's op list long for no use:
/// the line is far wider than any frame well before.
const MAX_LETTERS: usize = 1000;
const MAX_SIZE_PX: f32 = 1000.0;
const MAX_OUTLINE_PX: u32 = 64;

/// Where the text goes when `x`/`y` are not given.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum Position {
    #[default]
    Center,
    Top,
    Bottom,
}

/// The overlay's params as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    words: Vec<String>,
    #[serde(default)]
    delay_s: f64,
    #[serde(default = "default_letter_interval")]
    letter_interval_s: f64,
    #[serde(default)]
    word_gap_s: f64,
    hold_s: Option<f64>,
    #[serde(default = "default_color")]
    color: Rgba,
    #[serde(default = "default_size")]
    size: f32,
    #[serde(default = "default_outline")]
    outline: u32,
    #[serde(default = "default_outline_color")]
    outline_color: Rgba,
    position: Option<Position>,
    #[serde(default = "default_margin")]
    margin: u32,
    x: Option<i32>,
    y: Option<i32>,
}

fn default_letter_interval() -> f64 {
    0.08
}
fn default_color() -> Rgba {
    Rgba::WHITE
}
fn default_size() -> f32 {
    64.0
}
fn default_outline() -> u32 {
    2
}
fn default_outline_color() -> Rgba {
    Rgba::BLACK
}
fn default_margin() -> u32 {
    48
}

/// Checks that `value` is a finite number of at least 0.
fn non_negative(field: &str, value: f64) -> Result<f64, PluginError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PluginError::invalid(
            field,
            format!("must be 0 or more, got {value}"),
        ))
    }
}

/// Seconds to whole microseconds, the unit of `pts-us`.
fn micros(seconds: f64) -> i64 {
    (seconds * 1e6).round() as i64
}

impl Params {
    fn parse(json: &str) -> Result<Params, PluginError> {
        let p: Params = params::parse(json)?;
        if p.words.is_empty() {
            return Err(PluginError::invalid("words", "must hold at least one word"));
        }
        for (i, word) in p.words.iter().enumerate() {
            if word.trim().is_empty() {
                return Err(PluginError::invalid(
                    format!("words.{i}"),
                    "must not be empty",
                ));
            }
        }
        let letters = p
            .words
            .iter()
            .flat_map(|w| w.chars())
            .filter(|c| !c.is_whitespace())
            .count();
        if letters > MAX_LETTERS {
            return Err(PluginError::invalid(
                "words",
                format!("has {letters} letters; at most {MAX_LETTERS} fit on one line"),
            ));
        }
        non_negative("delay_s", p.delay_s)?;
        non_negative("letter_interval_s", p.letter_interval_s)?;
        non_negative("word_gap_s", p.word_gap_s)?;
        if let Some(hold) = p.hold_s {
            non_negative("hold_s", hold)?;
        }
        if !(p.size.is_finite() && (1.0..=MAX_SIZE_PX).contains(&p.size)) {
            return Err(PluginError::invalid(
                "size",
                format!("must be from 1 to {MAX_SIZE_PX} px, got {}", p.size),
            ));
        }
        if p.outline > MAX_OUTLINE_PX {
            return Err(PluginError::invalid(
                "outline",
                format!("must be from 0 to {MAX_OUTLINE_PX} px, got {}", p.outline),
            ));
        }
        match (p.x, p.y, p.position) {
            (Some(_), Some(_), Some(_)) => Err(PluginError::invalid(
                "position",
                "give either position or x and y, not both",
            )),
            (Some(_), None, _) => Err(PluginError::invalid("y", "is required when x is given")),
            (None, Some(_), _) => Err(PluginError::invalid("x", "is required when y is given")),
            _ => Ok(p),
        }
    }

    fn style(&self) -> TextStyle {
        TextStyle {
            size_px: self.size,
            color: self.color,
            outline: (self.outline > 0).then_some(Outline {
                width_px: self.outline,
                color: self.outline_color,
            }),
        }
    }

    /// The text box's top-left corner on a `frame_width` × `frame_height` frame.
    fn origin(&self, layout: &TextLayout, frame_width: u32, frame_height: u32) -> (i64, i64) {
        if let (Some(x), Some(y)) = (self.x, self.y) {
            return (i64::from(x), i64::from(y));
        }
        let free_x = i64::from(frame_width) - i64::from(layout.width);
        let free_y = i64::from(frame_height) - i64::from(layout.height);
        let margin = i64::from(self.margin);
        let y = match self.position.unwrap_or_default() {
            Position::Center => free_y.div_euclid(2),
            Position::Top => margin,
            Position::Bottom => free_y - margin,
        };
        (free_x.div_euclid(2), y)
    }
}

/// One letter, ready to place.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Letter {
    /// When it appears, in microseconds.
    appear_us: i64,
    x: i32,
    y: i32,
    outline: Option<u32>,
    fill: Option<u32>,
}

/// The overlay: letters in order of appearance, with their sprites.
#[derive(Debug)]
pub struct TextReveal {
    letters: Vec<Letter>,
    /// When the whole text disappears, in microseconds, if it does.
    hide_us: Option<i64>,
}

impl TextReveal {
    /// How many letters are shown at `pts_us`.
    fn shown(&self, pts_us: i64) -> usize {
        if self.hide_us.is_some_and(|hide| pts_us >= hide) {
            return 0;
        }
        self.letters.partition_point(|l| l.appear_us <= pts_us)
    }
}

impl Overlay for TextReveal {
    fn create(info: &MediaInfo, params: &str) -> Result<Self, PluginError> {
        let params = Params::parse(params)?;
        let style = params.style();
        let font = Font::builtin();
        let layout = font.layout(&params.words.join(" "), &style);
        if layout.width > info.width {
            log::warn(&format!(
                "text-reveal: the text is {} px wide, wider than the {} px frame; it will be cut off",
                layout.width, info.width
            ));
        }

        // Two sprites per distinct character: (outline, fill).
        let mut sprites: BTreeMap<char, (Option<u32>, Option<u32>)> = BTreeMap::new();
        for glyph in &layout.glyphs {
            if sprites.contains_key(&glyph.ch) {
                continue;
            }
            let rendered = font.render_glyph(glyph.ch, &style);
            let define = |sprite: &framejet_sdk::text::Sprite| -> Result<Option<u32>, PluginError> {
                if sprite.is_empty() {
                    return Ok(None);
                }
                let id = sprite.define().map_err(|err| {
                    PluginError::new(format!(
                        "the host refused the sprite for {:?}: {err}",
                        glyph.ch
                    ))
                })?;
                Ok(Some(id))
            };
            let outline = match &rendered.outline {
                Some(outline) => define(outline)?,
                None => None,
            };
            let fill = define(&rendered.fill)?;
            sprites.insert(glyph.ch, (outline, fill));
        }

        // The layout's glyphs are the text's non-whitespace characters in order.
        let word_of_letter = params
            .words
            .iter()
            .enumerate()
            .flat_map(|(w, word)| word.chars().filter(|c| !c.is_whitespace()).map(move |_| w));
        let (left, top) = params.origin(&layout, info.width, info.height);
        let clamp = |v: i64| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let letters: Vec<Letter> = layout
            .glyphs
            .iter()
            .zip(word_of_letter)
            .enumerate()
            .map(|(k, (glyph, word))| {
                let appear_s = params.delay_s
                    + k as f64 * params.letter_interval_s
                    + word as f64 * params.word_gap_s;
                let (outline, fill) = sprites.get(&glyph.ch).copied().unwrap_or((None, None));
                Letter {
                    appear_us: micros(appear_s),
                    x: clamp(left + i64::from(glyph.x)),
                    y: clamp(top + i64::from(glyph.y)),
                    outline,
                    fill,
                }
            })
            .collect();
        let complete_us = letters.last().map_or(0, |l| l.appear_us);
        let hide_us = params
            .hold_s
            .map(|hold| complete_us.saturating_add(micros(hold)));
        Ok(TextReveal { letters, hide_us })
    }

    fn frame(&mut self, _index: u64, pts_us: i64) -> Vec<DrawOp> {
        let shown = &self.letters[..self.shown(pts_us)];
        let place = |id: u32, letter: &Letter| {
            DrawOp::Sprite(SpritePlacement {
                id,
                x: letter.x,
                y: letter.y,
                opacity: 1.0,
            })
        };
        let outlines = shown
            .iter()
            .filter_map(|l| l.outline.map(|id| place(id, l)));
        let fills = shown.iter().filter_map(|l| l.fill.map(|id| place(id, l)));
        outlines.chain(fills).collect()
    }
}

framejet_sdk::export_overlay!(TextReveal);

#[cfg(test)]
mod tests {
    use framejet_sdk::testing;

    use super::*;

    /// A 1920x1080 video at 30 fps: frame `i` is shown at `i / 30` s.
    fn create(params: &str) -> Result<TextReveal, PluginError> {
        testing::reset();
        TextReveal::create(&testing::media_info(1920, 1080, 30, 300), params)
    }

    fn pts(frame: i64) -> i64 {
        frame * 1_000_000 / 30
    }

    /// The characters shown at `pts_us`, read back from the fill sprites' ids.
    fn shown_text(
        overlay: &mut TextReveal,
        pts_us: i64,
        chars_by_id: &BTreeMap<u32, char>,
    ) -> String {
        overlay
            .frame(0, pts_us)
            .iter()
            .filter_map(|op| match op {
                DrawOp::Sprite(s) => chars_by_id.get(&s.id).copied(),
                _ => None,
            })
            .collect()
    }

    /// Fill sprite id → character, from the overlay's letters and the words.
    fn fills(overlay: &TextReveal, words: &str) -> BTreeMap<u32, char> {
        let letters = words.chars().filter(|c| !c.is_whitespace());
        overlay
            .letters
            .iter()
            .zip(letters)
            .filter_map(|(l, c)| l.fill.map(|id| (id, c)))
            .collect()
    }

    #[test]
    fn letters_appear_one_by_one() {
        // H at 1.0 s, I at 1.1, then a 0.5 s word gap: Y at 1.7, O at 1.8, U at 1.9.
        let params =
            r#"{"words":["HI","YOU"],"delay_s":1,"letter_interval_s":0.1,"word_gap_s":0.5}"#;
        let mut overlay = create(params).unwrap();
        let ids = fills(&overlay, "HIYOU");
        assert_eq!(shown_text(&mut overlay, 0, &ids), "");
        assert_eq!(shown_text(&mut overlay, pts(29), &ids), "");
        assert_eq!(shown_text(&mut overlay, pts(30), &ids), "H", "1.0 s");
        assert_eq!(shown_text(&mut overlay, pts(33), &ids), "HI", "1.1 s");
        assert_eq!(shown_text(&mut overlay, pts(50), &ids), "HI", "1.67 s");
        assert_eq!(shown_text(&mut overlay, pts(51), &ids), "HIY", "1.7 s");
        assert_eq!(shown_text(&mut overlay, pts(56), &ids), "HIYO", "1.87 s");
        assert_eq!(shown_text(&mut overlay, pts(57), &ids), "HIYOU", "1.9 s");
        assert_eq!(
            shown_text(&mut overlay, pts(299), &ids),
            "HIYOU",
            "stays to the end"
        );
    }

    #[test]
    fn outlines_come_first_then_fills() {
        let mut overlay = create(r#"{"words":["AB"],"letter_interval_s":1}"#).unwrap();
        let ops = overlay.frame(0, 1_000_000);
        assert_eq!(ops.len(), 4);
        let ids: Vec<u32> = ops
            .iter()
            .map(|op| match op {
                DrawOp::Sprite(s) => s.id,
                other => panic!("{other:?}"),
            })
            .collect();
        let a = overlay.letters[0];
        let b = overlay.letters[1];
        assert_eq!(
            ids,
            vec![
                a.outline.unwrap(),
                b.outline.unwrap(),
                a.fill.unwrap(),
                b.fill.unwrap()
            ]
        );
        // Without an outline, one sprite per letter.
        let mut plain = create(r#"{"words":["AB"],"outline":0}"#).unwrap();
        assert_eq!(plain.frame(0, 1_000_000).len(), 2);
    }

    #[test]
    fn hold_hides_the_text() {
        // Last letter at 0.16 s; hidden from 1.16 s.
        let mut overlay = create(r#"{"words":["ABC"],"hold_s":1}"#).unwrap();
        assert_eq!(overlay.frame(0, 1_159_999).len(), 6);
        assert!(overlay.frame(0, 1_160_000).is_empty());
    }

    #[test]
    fn sprites_are_defined_once_per_character() {
        let overlay = create(r#"{"words":["BOOB", "BOB"]}"#).unwrap();
        // B and O, each with an outline and a fill.
        assert_eq!(testing::sprites().len(), 4);
        assert_eq!(overlay.letters.len(), 7);
        assert_eq!(overlay.letters[0].fill, overlay.letters[3].fill);
    }

    #[test]
    fn placement() {
        let overlay = create(r#"{"words":["WOW"]}"#).unwrap();
        let xs: Vec<i32> = overlay.letters.iter().map(|l| l.x).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        // Centred: the text's middle is near the frame's middle.
        let first = overlay.letters[0].x;
        let sprites = testing::sprites();
        let last_fill = overlay.letters[2].fill.unwrap() as usize;
        let last_right = overlay.letters[2].x + sprites[last_fill].width as i32;
        assert!(
            ((first + last_right) / 2 - 960).abs() <= 8,
            "{first}..{last_right}"
        );
        assert!((overlay.letters[1].y - 540).abs() < 64);

        let at = create(r#"{"words":["WOW"],"x":10,"y":20}"#).unwrap();
        assert!(at.letters[0].x >= 10 && at.letters[0].x < 20);
        assert!(at.letters.iter().all(|l| l.y >= 20 && l.y < 40));
        let top = create(r#"{"words":["WOW"],"position":"top"}"#).unwrap();
        let bottom = create(r#"{"words":["WOW"],"position":"bottom"}"#).unwrap();
        assert!(top.letters[0].y < 100);
        assert!(bottom.letters[0].y > 900);
    }

    #[test]
    fn colour_reaches_the_sprites() {
        create(r##"{"words":["I"],"color":"#FF000080","outline":0}"##).unwrap();
        let sprite = &testing::sprites()[0];
        let solid = sprite.rgba.chunks(4).find(|p| p[3] > 0).unwrap();
        assert_eq!(&solid[..3], &[255, 0, 0]);
        assert!(sprite.rgba.chunks(4).all(|p| p[3] <= 128));
    }

    #[test]
    fn too_wide_text_is_logged() {
        create(r#"{"words":["A VERY LONG LINE OF TEXT THAT WILL NOT FIT"],"size":200}"#).unwrap();
        assert!(
            testing::logs()
                .iter()
                .any(|(level, msg)| *level == LogLevel::Warn && msg.contains("wider"))
        );
    }

    #[test]
    fn bad_params_name_the_field() {
        let field = |params: &str| create(params).unwrap_err().field.unwrap_or_default();
        assert_eq!(field(r#"{}"#), "words");
        assert_eq!(field(r#"{"words":[]}"#), "words");
        assert_eq!(field(r#"{"words":["a", " "]}"#), "words.1");
        assert_eq!(field(r#"{"words":["a", 2]}"#), "words.1");
        assert_eq!(
            field(&format!(r#"{{"words":["{}"]}}"#, "x".repeat(1001))),
            "words"
        );
        assert_eq!(field(r#"{"words":["a"],"color":"white"}"#), "color");
        assert_eq!(
            field(r##"{"words":["a"],"outline_color":"#12"}"##),
            "outline_color"
        );
        assert_eq!(field(r#"{"words":["a"],"size":0}"#), "size");
        assert_eq!(field(r#"{"words":["a"],"outline":65}"#), "outline");
        assert_eq!(field(r#"{"words":["a"],"delay_s":-1}"#), "delay_s");
        assert_eq!(field(r#"{"words":["a"],"hold_s":-1}"#), "hold_s");
        assert_eq!(field(r#"{"words":["a"],"position":"left"}"#), "position");
        assert_eq!(
            field(r#"{"words":["a"],"position":"top","x":1,"y":1}"#),
            "position"
        );
        assert_eq!(field(r#"{"words":["a"],"x":1}"#), "y");
    }
}
