//! The one error type of the farm, and the one place that turns it into an HTTP answer:
//! `{"error": "<what to do>", "code": "<stable word>"}` with the matching status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::worker::InvalidInput;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FarmError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("no worker named '{0}': it may have been deleted")]
    NotFound(String),
    #[error("no preset named '{0}': GET /api/presets lists them")]
    PresetNotFound(String),
    #[error("a worker with id '{0}' already exists: choose another name")]
    AlreadyExists(String),
    #[error("the farm is full ({0} workers): delete a worker first or raise MAX_WORKERS")]
    LimitReached(usize),
    #[error("the worker image '{0}' is missing: build it with scripts/build-worker-image.sh")]
    ImageMissing(String),
    #[error("the Docker engine is unreachable ({0}): start Docker or set DOCKER_HOST")]
    DockerUnavailable(String),
    #[error("Docker refused the request: {0}")]
    Docker(String),
    #[error("the terminal of worker '{0}' is not reachable: {1}")]
    TerminalUnreachable(String, String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the store is unreachable ({0}): start Redis or check REDIS_URL")]
    StoreUnavailable(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("too many wrong passwords: try again in {0} s")]
    TooManyAttempts(u64),
    #[error("{0}")]
    NotJson(String),
    #[error(
        "not enough memory in the farm's budget: this worker asks for {asked} MiB, {free} MiB \
         of {budget} MiB are free; ask for less (memory_mb), delete a worker, or raise \
         FARM_MEMORY_BUDGET_MB"
    )]
    OverBudget { asked: u64, free: u64, budget: u64 },
    #[error("worker '{0}' has no terminal session yet: open its terminal once, then send again")]
    NoSession(String),
}

impl FarmError {
    pub fn status(&self) -> StatusCode {
        match self {
            FarmError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            FarmError::NotFound(_) | FarmError::PresetNotFound(_) => StatusCode::NOT_FOUND,
            FarmError::AlreadyExists(_)
            | FarmError::LimitReached(_)
            | FarmError::OverBudget { .. }
            | FarmError::NoSession(_) => StatusCode::CONFLICT,
            FarmError::Forbidden(_) => StatusCode::FORBIDDEN,
            FarmError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            FarmError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            FarmError::NotJson(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            FarmError::ImageMissing(_)
            | FarmError::DockerUnavailable(_)
            | FarmError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            FarmError::Docker(_) | FarmError::TerminalUnreachable(..) => StatusCode::BAD_GATEWAY,
        }
    }

    /// A stable word for scripts to match on; the message may be reworded.
    pub fn code(&self) -> &'static str {
        match self {
            FarmError::InvalidInput(_) => "invalid_input",
            FarmError::NotFound(_) | FarmError::PresetNotFound(_) => "not_found",
            FarmError::AlreadyExists(_) => "already_exists",
            FarmError::LimitReached(_) => "limit_reached",
            FarmError::ImageMissing(_) => "image_missing",
            FarmError::DockerUnavailable(_) => "docker_unavailable",
            FarmError::Docker(_) => "docker_error",
            FarmError::TerminalUnreachable(..) => "terminal_unreachable",
            FarmError::Forbidden(_) => "forbidden",
            FarmError::StoreUnavailable(_) => "store_unavailable",
            FarmError::Unauthorized(_) => "unauthorized",
            FarmError::TooManyAttempts(_) => "too_many_attempts",
            FarmError::NotJson(_) => "not_json",
            FarmError::OverBudget { .. } => "over_budget",
            FarmError::NoSession(_) => "no_session",
        }
    }
}

impl From<InvalidInput> for FarmError {
    fn from(e: InvalidInput) -> Self {
        FarmError::InvalidInput(e.0)
    }
}

impl IntoResponse for FarmError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.to_string(), "code": self.code() });
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            FarmError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            FarmError::TooManyAttempts(seconds) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}
