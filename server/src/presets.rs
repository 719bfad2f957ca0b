//! The REST API for presets (`/api/presets…`): each handler hands its request to the worker
//! service, which keeps them in the store.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use farm::presets::Preset;
use farm::{FarmError, WorkerService};

use crate::api::json_body;

pub async fn list(
    State(service): State<WorkerService>,
) -> Result<Json<BTreeMap<String, Preset>>, FarmError> {
    Ok(Json(service.presets().await?))
}

pub async fn get(
    State(service): State<WorkerService>,
    Path(name): Path<String>,
) -> Result<Json<Preset>, FarmError> {
    Ok(Json(service.preset(&name).await?))
}

/// `PUT /api/presets/{name}`: saves the preset, replacing one of that name.
pub async fn put(
    State(service): State<WorkerService>,
    Path(name): Path<String>,
    body: Result<Json<Preset>, JsonRejection>,
) -> Result<Json<Preset>, FarmError> {
    let preset = json_body(
        body,
        r#"{"git_repo": "https://…", "env": {"RUST_LOG": "debug"}, "model": "sonnet", "permission_mode": "acceptEdits", "memory_mb": 4096}"#,
    )?;
    Ok(Json(service.save_preset(&name, preset).await?))
}

pub async fn delete(
    State(service): State<WorkerService>,
    Path(name): Path<String>,
) -> Result<StatusCode, FarmError> {
    service.delete_preset(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}
