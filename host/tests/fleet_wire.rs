//! The fleet's message schemas are the ones shipped in `docs/`, and
//! messages made by the wire types satisfy them.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use framejet_spec::fleet::{JobRecord, JobSubmission, Task, TaskKind, WIRE_VERSION, json_schemas};

fn shipped() -> serde_json::Value {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/fleet.schema.json"
    ));
    serde_json::from_str(&std::fs::read_to_string(path).expect("docs/fleet.schema.json")).unwrap()
}

#[test]
fn the_shipped_fleet_schemas_match_the_wire_types() {
    assert_eq!(
        shipped(),
        json_schemas(),
        "docs/fleet.schema.json is stale: run `framejet schema --fleet > docs/fleet.schema.json`"
    );
}

#[test]
fn messages_satisfy_their_schemas_and_foreign_ones_are_refused() {
    let schemas = shipped();
    let submission = serde_json::json!({
        "version": WIRE_VERSION, "id": "clip-1",
        "spec": {"inputs": [{"src": "media:inputs/ab/clip.mp4"}]}
    });
    let validator = jsonschema::validator_for(&schemas["JobSubmission"]).unwrap();
    assert!(validator.is_valid(&submission));
    let parsed: JobSubmission = serde_json::from_value(submission).unwrap();
    let record = serde_json::to_value(framejet_spec::fleet::JobRecord {
        version: WIRE_VERSION,
        id: parsed.id.clone(),
        state: framejet_spec::fleet::JobState::Queued,
        priority: parsed.spec.priority,
        queue: None,
        spec_digest: "00".into(),
        spec: parsed.spec,
        owner: Some("alice".into()),
        webhook: None,
        submitted_at_ms: 1,
        started_at_ms: None,
        finished_at_ms: None,
        deadline_ms: None,
        plan: None,
        total_frames: 0,
        segments: vec![],
        audio: None,
        finalize: None,
        output: None,
        error: None,
    })
    .unwrap();
    assert!(
        jsonschema::validator_for(&schemas["JobRecord"])
            .unwrap()
            .is_valid(&record)
    );
    let _: JobRecord = serde_json::from_value(record).unwrap();

    let task = serde_json::to_value(Task {
        version: WIRE_VERSION,
        job_id: "clip-1".into(),
        kind: TaskKind::Segment { index: 2 },
        plan: None,
        capabilities: vec!["gpu".into()],
        min_memory_mib: Some(512),
    })
    .unwrap();
    let task_schema = jsonschema::validator_for(&schemas["Task"]).unwrap();
    assert!(task_schema.is_valid(&task), "{task}");
    let unknown = serde_json::json!({"version": 1, "job_id": "j", "kind": "explode"});
    assert!(!task_schema.is_valid(&unknown));
    assert!(serde_json::from_value::<Task>(unknown).is_err());
}
