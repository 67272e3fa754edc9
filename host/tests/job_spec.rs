//! The job spec's JSON Schema is the one shipped in `docs/`, and the
//! examples satisfy both it and the spec parser.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use framejet::job::JobSpec;
use framejet::job::spec::json_schema;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn shipped_schema() -> serde_json::Value {
    let text =
        std::fs::read_to_string(repo().join("docs/job.schema.json")).expect("docs/job.schema.json");
    serde_json::from_str(&text).expect("schema is JSON")
}

#[test]
fn the_shipped_schema_matches_the_spec_types() {
    assert_eq!(
        shipped_schema(),
        json_schema(),
        "docs/job.schema.json is stale: run `framejet schema > docs/job.schema.json`"
    );
}

#[test]
fn every_example_job_satisfies_the_schema_and_the_parser() {
    let validator = jsonschema::validator_for(&shipped_schema()).expect("valid schema");
    let mut seen = 0;
    for entry in std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        JobSpec::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen += 1;
    }
    assert!(seen >= 2, "the examples are found");
}

#[test]
fn the_schema_rejects_what_the_parser_rejects() {
    let validator = jsonschema::validator_for(&shipped_schema()).unwrap();
    for bad in [
        serde_json::json!({"inputs": [{"src": "a.mp4"}], "steps": [{"native": "fit", "width": 64, "height": 64, "mode": "squash"}]}),
        serde_json::json!({"inputs": [{"src": "a.mp4", "extra": 1}]}),
        serde_json::json!({"steps": []}),
    ] {
        assert!(!validator.is_valid(&bad), "schema accepts {bad}");
        assert!(
            JobSpec::from_json(&bad.to_string()).is_err(),
            "parser accepts {bad}"
        );
    }
}

#[test]
fn toml_specs_parse_like_json() {
    let toml = r#"
        [[inputs]]
        src = "a.mp4"
        [[steps]]
        native = "fit"
        width = 1280
        height = 720
        [[steps]]
        plugin = "overlay-logo"
        params = { asset = "logo", corner = "top-left" }
        [output.video]
        codec = "hevc"
        rate = { bitrate = "5M", max_bitrate = "8M" }
    "#;
    let spec = JobSpec::from_toml(toml).expect("toml");
    assert_eq!(spec.steps.len(), 2);
    assert_eq!(spec.output.video.codec, "hevc");
    assert_eq!(spec.output.video.rate.bitrate.as_deref(), Some("5M"));
    let err = JobSpec::from_toml("[[inputs]]\nsrc = 3\n").unwrap_err();
    assert!(err.to_string().starts_with("inputs[0].src"), "{err}");
}
