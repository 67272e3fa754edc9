//! `{{name}}`: a framejet router. It decides which work queue a job goes to.
//!
//! Params (all optional):
//! - `queue`: where jobs go (default `"default"`);
//! - `big_queue`: where jobs with more than `big_items` inputs go (default `"big"`);
//! - `big_items`: default 10.

use framejet_sdk::params;
use framejet_sdk::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Params {
    queue: String,
    big_queue: String,
    big_items: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            queue: "default".into(),
            big_queue: "big".into(),
            big_items: 10,
        }
    }
}

/// The router.
pub struct Plugin;

impl Router for Plugin {
    fn route(job: &JobInfo, params: &str) -> Result<Route, PluginError> {
        let params: Params = params::parse(params)?;
        let queue = if job.item_count > params.big_items {
            params.big_queue
        } else {
            params.queue
        };
        Ok(Route::to_queue(queue, job.priority))
    }
}

framejet_sdk::export_router!(Plugin);

#[cfg(test)]
mod tests {
    use framejet_sdk::testing::job_info;

    use super::*;

    #[test]
    fn routes_by_item_count() {
        assert_eq!(
            Plugin::route(&job_info(10, 1920, 1080), "").unwrap().queue,
            "default"
        );
        assert_eq!(
            Plugin::route(&job_info(11, 1920, 1080), "").unwrap().queue,
            "big"
        );
        let params = r#"{"big_items": 2, "big_queue": "large"}"#;
        assert_eq!(
            Plugin::route(&job_info(3, 1920, 1080), params)
                .unwrap()
                .queue,
            "large"
        );
    }

    #[test]
    fn bad_params_name_the_field() {
        let err = Plugin::route(&job_info(1, 1920, 1080), r#"{"big_items": "many"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("big_items"));
    }
}
