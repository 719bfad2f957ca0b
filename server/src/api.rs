//! The REST API for scripts (`/api/workers…`): each handler hands its request to the worker
//! service and its answer back as JSON. Errors become JSON in `FarmError::into_response`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use farm::worker::{NewWorker, Worker};
use farm::{FarmError, WorkerService};

pub async fn list(State(service): State<WorkerService>) -> Result<Json<Vec<Worker>>, FarmError> {
    Ok(Json(service.list().await?))
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
    let Json(request) = body.map_err(|e| {
        FarmError::InvalidInput(format!(
            "{}: send a JSON object like {{\"name\": \"My Worker\", \"git_repo\": \"https://…\"}}",
            e.body_text()
        ))
    })?;
    Ok((StatusCode::CREATED, Json(service.create(request).await?)))
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
