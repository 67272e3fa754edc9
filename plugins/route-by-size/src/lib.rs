//! `route-by-size`, the default router: big jobs go to the `4k` queue, the rest
//! to `default`.
//!
//! A job is big when its output is 4K and it joins more than `uhd_items`
//! inputs (20), or when it joins more than `max_items` inputs (40) whatever
//! its size. The job's priority is passed through unchanged.
//!
//! **4K** means at least 3840 × 2160 in either orientation: the longer side is
//! at least 3840 px *or* the shorter side is at least 2160 px. So 3840 × 2160,
//! 2160 × 3840 (portrait), 4096 × 1716 (scope) and 2560 × 2160 all count, and
//! 2560 × 1440 does not.
//!
//! Params (all optional):
//!
//! | key                      | default     | meaning                                         |
//! |--------------------------|-------------|-------------------------------------------------|
//! | `large_queue`            | `"4k"`      | queue for big jobs                              |
//! | `default_queue`          | `"default"` | queue for the rest                              |
//! | `uhd_items`              | `20`        | a 4K job with more inputs than this is big      |
//! | `max_items`              | `40`        | any job with more inputs than this is big       |
//! | `capabilities`           | `[]`        | what a worker needs for a big job, e.g. `["gpu"]` |
//! | `default_capabilities`   | `[]`        | what a worker needs for the other jobs          |
//! | `min_memory_mib`         | none        | free memory a worker needs for a big job        |
//! | `default_min_memory_mib` | none        | free memory a worker needs for the other jobs   |
//!
//! Queue names and capabilities are 1-64 characters of `a-z`, `0-9`, `-`, `_`.

use framejet_sdk::params;
use framejet_sdk::prelude::*;
use serde::Deserialize;

/// Output sizes at or above this, in either orientation, are 4K.
const UHD_LONG_SIDE: u32 = 3840;
const UHD_SHORT_SIDE: u32 = 2160;

/// The router's params, with their defaults.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Params {
    large_queue: String,
    default_queue: String,
    uhd_items: u32,
    max_items: u32,
    capabilities: Vec<String>,
    default_capabilities: Vec<String>,
    min_memory_mib: Option<u64>,
    default_min_memory_mib: Option<u64>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            large_queue: "4k".to_owned(),
            default_queue: "default".to_owned(),
            uhd_items: 20,
            max_items: 40,
            capabilities: Vec::new(),
            default_capabilities: Vec::new(),
            min_memory_mib: None,
            default_min_memory_mib: None,
        }
    }
}

impl Params {
    fn parse(json: &str) -> Result<Params, PluginError> {
        let params: Params = params::parse(json)?;
        check_name("large_queue", &params.large_queue)?;
        check_name("default_queue", &params.default_queue)?;
        for (i, capability) in params.capabilities.iter().enumerate() {
            check_name(&format!("capabilities.{i}"), capability)?;
        }
        for (i, capability) in params.default_capabilities.iter().enumerate() {
            check_name(&format!("default_capabilities.{i}"), capability)?;
        }
        Ok(params)
    }
}

/// Checks a queue or capability name: 1-64 characters of `a-z`, `0-9`, `-`, `_`.
fn check_name(field: &str, name: &str) -> Result<(), PluginError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if name.is_empty() || name.len() > 64 || !name.chars().all(allowed) {
        return Err(PluginError::invalid(
            field,
            format!("expected 1-64 characters of a-z, 0-9, '-', '_', got {name:?}"),
        ));
    }
    Ok(())
}

/// Whether a `width` × `height` output is 4K, in either orientation.
fn is_uhd(width: u32, height: u32) -> bool {
    width.max(height) >= UHD_LONG_SIDE || width.min(height) >= UHD_SHORT_SIDE
}

/// The default router.
pub struct RouteBySize;

impl Router for RouteBySize {
    fn route(job: &JobInfo, params: &str) -> Result<Route, PluginError> {
        let params = Params::parse(params)?;
        let big = job.item_count > params.max_items
            || (job.item_count > params.uhd_items && is_uhd(job.output_width, job.output_height));
        let route = if big {
            Route {
                queue: params.large_queue,
                priority: job.priority,
                capabilities: params.capabilities,
                min_memory_mib: params.min_memory_mib,
            }
        } else {
            Route {
                queue: params.default_queue,
                priority: job.priority,
                capabilities: params.default_capabilities,
                min_memory_mib: params.default_min_memory_mib,
            }
        };
        Ok(route)
    }
}

framejet_sdk::export_router!(RouteBySize);

#[cfg(test)]
mod tests {
    use framejet_sdk::testing::job_info;

    use super::*;

    fn queue(items: u32, width: u32, height: u32) -> String {
        RouteBySize::route(&job_info(items, width, height), "")
            .unwrap()
            .queue
    }

    #[test]
    fn uhd_jobs_go_to_4k_above_20_items() {
        assert_eq!(queue(20, 3840, 2160), "default");
        assert_eq!(queue(21, 3840, 2160), "4k");
        assert_eq!(queue(21, 2160, 3840), "4k", "portrait 4K");
        assert_eq!(queue(21, 4096, 1716), "4k", "scope 4K");
        assert_eq!(queue(21, 2560, 2160), "4k");
        assert_eq!(queue(1, 7680, 4320), "default");
    }

    #[test]
    fn any_job_goes_to_4k_above_40_items() {
        assert_eq!(queue(21, 1920, 1080), "default");
        assert_eq!(queue(40, 1920, 1080), "default");
        assert_eq!(queue(41, 1920, 1080), "4k");
        assert_eq!(queue(40, 3840, 2160), "4k");
        assert_eq!(queue(41, 640, 360), "4k");
    }

    #[test]
    fn just_below_4k_is_not_4k() {
        assert_eq!(queue(30, 3839, 2159), "default");
        assert_eq!(queue(30, 2560, 1440), "default");
        assert_eq!(queue(30, 2159, 3839), "default");
    }

    #[test]
    fn priority_passes_through() {
        for priority in [Priority::Low, Priority::Normal, Priority::High] {
            let job = JobInfo {
                priority,
                ..job_info(50, 1920, 1080)
            };
            assert_eq!(RouteBySize::route(&job, "{}").unwrap().priority, priority);
        }
    }

    #[test]
    fn params_change_thresholds_queues_and_needs() {
        let params = r#"{
            "large_queue": "uhd", "default_queue": "hd", "uhd_items": 2, "max_items": 5,
            "capabilities": ["gpu", "nvenc"], "min_memory_mib": 8192,
            "default_capabilities": ["cpu"], "default_min_memory_mib": 1024
        }"#;
        let big = RouteBySize::route(&job_info(3, 3840, 2160), params).unwrap();
        assert_eq!(
            big,
            Route {
                queue: "uhd".into(),
                priority: Priority::Normal,
                capabilities: vec!["gpu".into(), "nvenc".into()],
                min_memory_mib: Some(8192),
            }
        );
        let small = RouteBySize::route(&job_info(5, 1920, 1080), params).unwrap();
        assert_eq!(
            small,
            Route {
                queue: "hd".into(),
                priority: Priority::Normal,
                capabilities: vec!["cpu".into()],
                min_memory_mib: Some(1024),
            }
        );
        assert_eq!(
            RouteBySize::route(&job_info(6, 640, 360), params)
                .unwrap()
                .queue,
            "uhd"
        );
    }

    #[test]
    fn bad_params_name_the_field() {
        let field = |params: &str| {
            RouteBySize::route(&job_info(1, 1, 1), params)
                .unwrap_err()
                .field
        };
        assert_eq!(
            field(r#"{"large_queue": "Big Queue"}"#).as_deref(),
            Some("large_queue")
        );
        assert_eq!(
            field(r#"{"default_queue": ""}"#).as_deref(),
            Some("default_queue")
        );
        assert_eq!(
            field(r#"{"capabilities": ["gpu", "GPU!"]}"#).as_deref(),
            Some("capabilities.1")
        );
        assert_eq!(field(r#"{"uhd_items": -1}"#).as_deref(), Some("uhd_items"));
        assert_eq!(field(r#"{"queue": "x"}"#).as_deref(), Some("queue"));
        let long = format!(r#"{{"large_queue": "{}"}}"#, "q".repeat(65));
        assert_eq!(field(&long).as_deref(), Some("large_queue"));
    }
}
