//! The REST API for scripts (`/api/workers…`): each handler hands its request to the worker
//! service and its answer back as JSON. Errors become JSON in `FarmError::into_response`.

use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use farm::batch::BatchRequest;
use farm::limits::FarmUse;
use farm::worker::{NewWorker, Worker};
use farm::{FarmError, WorkerService};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::guard::{session_ended, Session};

pub async fn list(State(service): State<WorkerService>) -> Result<Json<Vec<Worker>>, FarmError> {
    Ok(Json(service.list().await?))
}

/// `GET /api/farm`: how much of the farm is taken (workers, memory against the budget).
pub async fn usage(State(service): State<WorkerService>) -> Result<Json<FarmUse>, FarmError> {
    Ok(Json(service.usage().await?))
}

pub async fn get(
    State(service): State<WorkerService>,
    Path(id): Path<String>,
) -> Result<Json<Worker>, FarmError> {
    Ok(Json(service.get(&id).await?))
}

pub async fn create(
    State(service): State<WorkerService>,
    body: Result<Json<NewWorker>, JsonRejection>,
) -> Result<(StatusCode, Json<Worker>), FarmError> {
    let request = json_body(body, r#"{"name": "My Worker", "git_repo": "https://…"}"#)?;
    Ok((StatusCode::CREATED, Json(service.create(request).await?)))
}

/// A JSON request body, or an error that shows what to send: 415 for a body that is not
/// JSON at all (the API takes nothing else), 400 for JSON of the wrong shape.
pub fn json_body<T>(body: Result<Json<T>, JsonRejection>, example: &str) -> Result<T, FarmError> {
    body.map(|Json(value)| value).map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => FarmError::NotJson(format!(
            "send JSON with `Content-Type: application/json`, like {example}"
        )),
        e => FarmError::InvalidInput(format!(
            "{}: send a JSON object like {example}",
            e.body_text()
        )),
    })
}

pub async fn delete(
    State(service): State<WorkerService>,
    Path(id): Path<String>,
) -> Result<StatusCode, FarmError> {
    service.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restart(
    State(service): State<WorkerService>,
    Path(id): Path<String>,
) -> Result<Json<Worker>, FarmError> {
    Ok(Json(service.restart(&id).await?))
}

/// `POST /api/workers/batch`: one action for several workers; each gets its own result.
pub async fn batch(
    State(service): State<WorkerService>,
    body: Result<Json<BatchRequest>, JsonRejection>,
) -> Result<Json<serde_json::Value>, FarmError> {
    let request = json_body(
        body,
        r#"{"ids": ["a", "b"], "action": "prompt", "text": "run the tests"} (or "action": "restart" / "delete")"#,
    )?;
    let results = service.batch(&request).await?;
    Ok(Json(serde_json::json!({ "results": results })))
}

/// Lines of log a request gets unless it asks for another number.
const DEFAULT_LOG_LINES: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    tail: Option<usize>,
    #[serde(default)]
    follow: bool,
}

/// `GET /api/workers/{id}/logs?tail=N&follow=true`: the container's output as plain text;
/// with `follow` the answer streams until the worker stops, the client leaves or its login
/// session ends.
pub async fn logs(
    State(service): State<WorkerService>,
    Path(id): Path<String>,
    session: Option<Extension<Session>>,
    query: Result<Query<LogsQuery>, QueryRejection>,
) -> Result<Response, FarmError> {
    let Query(query) = query.map_err(|e| {
        FarmError::InvalidInput(format!(
            "{}: use ?tail=<number of lines>&follow=true",
            e.body_text()
        ))
    })?;
    let tail = query.tail.unwrap_or(DEFAULT_LOG_LINES);
    let stream = service
        .logs(&id, tail, query.follow)
        .await?
        .take_until(session_ended(session.map(|Extension(s)| s)));
    let headers = [
        (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}
