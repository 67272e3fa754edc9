//! The gateway's errors, answered as `application/problem+json` (RFC 9457)
//! with a stable `type` per kind of error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::fleet::FleetError;

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("this request needs a bearer token (Authorization: Bearer …)")]
    Unauthorized,
    #[error("the token's role `{role}` may not {action}")]
    Forbidden {
        role: &'static str,
        action: &'static str,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is over the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    InvalidSpec(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the requested range is outside the {size} bytes there are")]
    RangeNotSatisfiable { size: u64 },
    #[error(transparent)]
    Fleet(#[from] FleetError),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidSpec(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::Fleet(FleetError::Missing(_)) => StatusCode::NOT_FOUND,
            ApiError::Fleet(FleetError::Refused(_)) => StatusCode::CONFLICT,
            ApiError::Fleet(e) if e.retryable() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Fleet(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable name of this kind of error, the last part of its `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound(_) | ApiError::Fleet(FleetError::Missing(_)) => "not-found",
            ApiError::BadRequest(_) => "bad-request",
            ApiError::TooLarge { .. } => "too-large",
            ApiError::InvalidSpec(_) => "invalid-spec",
            ApiError::Conflict(_) | ApiError::Fleet(FleetError::Refused(_)) => "conflict",
            ApiError::RangeNotSatisfiable { .. } => "range-not-satisfiable",
            ApiError::Fleet(e) if e.retryable() => "unavailable",
            ApiError::Fleet(_) => "internal",
        }
    }
}

/// The body of an error answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// `/problems/<kind>`: stable, for programs to match on.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of error.
    pub title: String,
    pub status: u16,
    /// What went wrong with this request, and what to do about it.
    pub detail: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!("gateway: {self}");
        }
        let problem = Problem {
            kind: format!("/problems/{}", self.kind()),
            title: status.canonical_reason().unwrap_or("error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::RangeNotSatisfiable { size } = self
            && let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
        if matches!(self, ApiError::Unauthorized) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"framejet\""),
            );
        }
        response
    }
}
