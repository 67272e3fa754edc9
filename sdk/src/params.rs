//! Typed params: JSON text in, your `serde` struct out, errors that name the
//! offending field.
//!
//! A plugin's params reach it as the JSON text written in the job spec. Declare
//! them as a struct, derive `Deserialize`, and call [`parse`]:
//!
//! ```
//! use framejet_sdk::{params, PluginError};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields, rename_all = "kebab-case")]
//! enum Corner { TopLeft, TopRight }
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Params {
//!     asset: String,
//!     #[serde(default = "default_margin")]
//!     margin: u32,
//!     corner: Option<Corner>,
//! }
//! fn default_margin() -> u32 { 24 }
//!
//! let p: Params = params::parse(r#"{"asset": "logo"}"#)?;
//! assert_eq!(p.margin, 24);
//!
//! let err = params::parse::<Params>(r#"{"asset": "logo", "corner": "middle"}"#).err().unwrap();
//! assert_eq!(err.field.as_deref(), Some("corner"));
//! assert_eq!(err.message, r#"expected top-left or top-right, got "middle""#);
//!
//! let err = params::parse::<Params>("{}").err().unwrap();
//! assert_eq!(err.field.as_deref(), Some("asset"));
//! # Ok::<(), PluginError>(())
//! ```
//!
//! Use `#[serde(deny_unknown_fields)]` so that a misspelt key is reported
//! instead of silently ignored. Checks that `serde` cannot express (ranges,
//! one parameter excluding another) belong right after `parse`, reported with
//! [`PluginError::invalid`].

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::PluginError;

/// Parses params JSON into `T`.
///
/// Params must be a JSON object. Empty or all-whitespace text, and `null`,
/// stand for no params and parse as `{}`, so a struct whose fields all have
/// defaults accepts them.
///
/// On failure the error's `field` is the dotted path to the offending value
/// (`"words.2"`), and its `message` says what is allowed and what was given,
/// e.g. `expected one of top-left, top-right, got "middle"`. A missing
/// required field and an unknown field are reported at that field's path.
/// JSON syntax errors carry no field and say where in the text they are.
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, PluginError> {
    let trimmed = json.trim();
    let json = if trimmed.is_empty() || trimmed == "null" {
        "{}"
    } else {
        json
    };
    if !json.trim_start().starts_with('{') {
        return Err(PluginError::new(format!(
            "params must be a JSON object, got `{}`",
            preview(trimmed)
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(to_plugin_error)?;
    deserializer
        .end()
        .map_err(|err| PluginError::new(format!("params are not valid JSON: {err}")))?;
    Ok(value)
}

fn to_plugin_error(err: serde_path_to_error::Error<serde_json::Error>) -> PluginError {
    let mut path: Vec<String> = err
        .path()
        .iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect();
    let inner = err.into_inner();
    if !inner.is_data() {
        return PluginError::new(format!("params are not valid JSON: {inner}"));
    }
    // serde_json appends " at line L column C"; the field path says it better.
    let full = inner.to_string();
    let location = format!(" at line {} column {}", inner.line(), inner.column());
    let raw = full.strip_suffix(&location).unwrap_or(&full);
    let (field_name, message) = humanize(raw);
    // serde_path_to_error already ends the path with the key of an unknown or
    // duplicate field, but stops at the enclosing object for a missing one.
    if let Some(name) = field_name
        && (path.last() != Some(&name) || raw.starts_with("missing field"))
    {
        path.push(name);
    }
    if path.is_empty() {
        PluginError::new(message)
    } else {
        PluginError::invalid(path.join("."), message)
    }
}

/// The start of `text`, for quoting in an error message.
fn preview(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut chars = text.chars();
    let mut shown: String = chars.by_ref().take(MAX_CHARS).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

/// Rewrites serde's standard messages for someone writing a job spec, and pulls
/// out the field name of `missing field` / `unknown field` messages (serde
/// reports those at the enclosing object's path).
fn humanize(raw: &str) -> (Option<String>, String) {
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let name = rest.trim_end_matches('`');
        return (Some(name.to_owned()), "required, but missing".to_owned());
    }
    if let Some(rest) = raw.strip_prefix("duplicate field `") {
        let name = rest.trim_end_matches('`');
        return (Some(name.to_owned()), "given more than once".to_owned());
    }
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        if let Some(name) = rest.strip_suffix("`, there are no fields") {
            return (
                Some(name.to_owned()),
                "unknown parameter; none are taken here".to_owned(),
            );
        }
        if let Some((name, expected)) = rest.split_once("`, expected ") {
            return (
                Some(name.to_owned()),
                format!("unknown parameter; expected {}", expected.replace('`', "")),
            );
        }
    }
    if let Some((variant, expected)) = split_ticked(raw, "unknown variant `") {
        return (None, format!("expected {expected}, got \"{variant}\""));
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((unexpected, expected)) = raw
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once(", expected "))
        {
            return (
                None,
                format!(
                    "expected {}, got {}",
                    expected_text(expected),
                    got_text(unexpected)
                ),
            );
        }
    }
    (None, raw.to_owned())
}

/// Splits `raw`, `prefix` followed by "NAME`, expected LIST", into NAME and LIST without
/// backticks.
fn split_ticked(raw: &str, prefix: &str) -> Option<(String, String)> {
    let rest = raw.strip_prefix(prefix)?;
    let (name, expected) = rest.split_once("`, expected ")?;
    Some((name.to_owned(), expected.replace('`', "")))
}

/// serde's names for what it wanted, in job-spec words.
fn expected_text(expected: &str) -> String {
    let text = match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" => "a list",
        "a map" => "an object",
        "a borrowed string" => "a string",
        other if other.starts_with("struct ") => "an object",
        other => other,
    };
    text.replace('`', "")
}

/// serde's description of what it got (`integer \`-5\``), in JSON words.
fn got_text(unexpected: &str) -> String {
    for prefix in ["integer `", "floating point `", "boolean `"] {
        if let Some(value) = unexpected.strip_prefix(prefix) {
            return value.trim_end_matches('`').to_owned();
        }
    }
    match unexpected {
        "unit value" => "null".to_owned(),
        "sequence" => "a list".to_owned(),
        "map" => "an object".to_owned(),
        other => other.strip_prefix("string ").unwrap_or(other).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::Rgba;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Corner {
        TopLeft,
        TopRight,
        BottomLeft,
        BottomRight,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Params {
        asset: String,
        #[serde(default)]
        margin: u32,
        corner: Option<Corner>,
        #[serde(default)]
        words: Vec<String>,
        color: Option<Rgba>,
        scale: Option<f32>,
        #[serde(default)]
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Nested {
        #[allow(dead_code)]
        depth: u8,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(default)]
    struct AllDefaults {
        n: u32,
    }

    fn err(json: &str) -> (Option<String>, String) {
        let e = parse::<Params>(json).expect_err("should fail");
        (e.field, e.message)
    }

    #[test]
    fn empty_and_null_mean_no_params() {
        for text in ["", "   \n", "null", "{}"] {
            assert_eq!(parse::<AllDefaults>(text).unwrap().n, 0, "{text:?}");
        }
    }

    #[test]
    fn good_params_parse() {
        let p: Params =
            parse(r##"{"asset":"logo","corner":"bottom-left","color":"#10203040"}"##).unwrap();
        assert_eq!(p.asset, "logo");
        assert!(matches!(p.corner, Some(Corner::BottomLeft)));
        assert_eq!(
            p.color,
            Some(Rgba {
                r: 0x10,
                g: 0x20,
                b: 0x30,
                a: 0x40
            })
        );
        let _ = (p.margin, p.words, p.scale, p.nested);
        let _ = (Corner::TopLeft, Corner::TopRight, Corner::BottomRight);
    }

    #[test]
    fn unknown_variant_names_field_and_choices() {
        assert_eq!(
            err(r#"{"asset":"a","corner":"middle"}"#),
            (
                Some("corner".into()),
                r#"expected one of top-left, top-right, bottom-left, bottom-right, got "middle""#
                    .into()
            )
        );
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        assert_eq!(
            err("{}"),
            (Some("asset".into()), "required, but missing".into())
        );
        let (field, message) = err(r#"{"asset":"a","corrner":"top-left"}"#);
        assert_eq!(field.as_deref(), Some("corrner"));
        assert!(
            message.starts_with("unknown parameter; expected one of asset, margin, corner"),
            "{message}"
        );
        let (field, _) = err(r#"{"asset":"a","nested":{}}"#);
        assert_eq!(field.as_deref(), Some("nested.depth"));
        let (field, message) = err(r#"{"asset":"a","nested":{"depth":1,"deep":2}}"#);
        assert_eq!(field.as_deref(), Some("nested.deep"));
        assert_eq!(message, "unknown parameter; expected depth");
        assert_eq!(
            err(r#"{"asset":"a","asset":"b"}"#),
            (Some("asset".into()), "given more than once".into())
        );
    }

    #[test]
    fn wrong_types_and_values() {
        assert_eq!(
            err(r#"{"asset":"a","margin":-5}"#),
            (
                Some("margin".into()),
                "expected a whole number, 0 or more, got -5".into()
            )
        );
        assert_eq!(
            err(r#"{"asset":"a","scale":"big"}"#),
            (
                Some("scale".into()),
                r#"expected a number, got "big""#.into()
            )
        );
        assert_eq!(
            err(r#"{"asset":"a","words":["ok", 3]}"#),
            (Some("words.1".into()), "expected a string, got 3".into())
        );
        assert_eq!(
            err(r#"{"asset":"a","color":"red"}"#),
            (
                Some("color".into()),
                r##"expected a colour as "#RRGGBB" or "#RRGGBBAA", got "red""##.into()
            )
        );
        assert_eq!(
            err(r#"{"asset":"a","nested":{"depth":300}}"#),
            (
                Some("nested.depth".into()),
                "expected a whole number, 0 or more, got 300".into()
            )
        );
        assert_eq!(
            err("[1]"),
            (None, "params must be a JSON object, got `[1]`".into())
        );
    }

    #[test]
    fn params_for_a_plugin_that_takes_none() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct NoParams {}
        assert!(parse::<NoParams>("").is_ok());
        let e = parse::<NoParams>(r#"{"strength": 2}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("strength"));
        assert_eq!(e.message, "unknown parameter; none are taken here");
    }

    #[test]
    fn syntax_errors_say_where() {
        let (field, message) = err(r#"{"asset": "#);
        assert_eq!(field, None);
        assert!(
            message.starts_with("params are not valid JSON: "),
            "{message}"
        );
        assert!(message.contains("line 1"), "{message}");
        let (_, message) = err(r#"{"asset":"a"} x"#);
        assert!(
            message.starts_with("params are not valid JSON: trailing characters"),
            "{message}"
        );
    }
}
