//! Presets through the service: saved, listed, deleted, and laid under a create request.
//! The checks that need the farm's settings (its images, its limits) are made here, so that a
//! preset that could never make a worker is refused when it is saved, not at the create.

use std::collections::BTreeMap;

use super::WorkerService;
use crate::error::FarmError;
use crate::presets::{check_preset_name, Preset, MAX_PRESETS};
use crate::worker::{InvalidInput, NewWorker};

impl WorkerService {
    pub async fn presets(&self) -> Result<BTreeMap<String, Preset>, FarmError> {
        self.store.presets().await
    }

    pub async fn preset(&self, name: &str) -> Result<Preset, FarmError> {
        check_preset_name(name).map_err(|_| FarmError::PresetNotFound(name.to_owned()))?;
        self.store
            .presets()
            .await?
            .remove(name)
            .ok_or_else(|| FarmError::PresetNotFound(name.to_owned()))
    }

    /// Saves `preset` under `name`, replacing one of that name.
    pub async fn save_preset(&self, name: &str, preset: Preset) -> Result<Preset, FarmError> {
        check_preset_name(name)?;
        preset.check()?;
        if let Some(image) = &preset.image {
            self.check_image(image)?;
        }
        self.config
            .limit_rules()
            .resolve(preset.memory_mb, preset.cpus)?;
        let saved = self.store.presets().await?;
        if !saved.contains_key(name) && saved.len() >= MAX_PRESETS {
            return Err(FarmError::InvalidInput(format!(
                "the farm keeps at most {MAX_PRESETS} presets: delete one first"
            )));
        }
        self.store.put_preset(name, &preset).await?;
        tracing::info!(preset = %name, "preset saved");
        Ok(preset)
    }

    pub async fn delete_preset(&self, name: &str) -> Result<(), FarmError> {
        check_preset_name(name).map_err(|_| FarmError::PresetNotFound(name.to_owned()))?;
        if self.store.delete_preset(name).await? {
            tracing::info!(preset = %name, "preset deleted");
            Ok(())
        } else {
            Err(FarmError::PresetNotFound(name.to_owned()))
        }
    }

    /// The request with its preset laid under it (its own fields win); a preset that does not
    /// exist is the request's mistake.
    pub(super) async fn with_preset(&self, request: NewWorker) -> Result<NewWorker, FarmError> {
        let Some(name) = request
            .preset
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        else {
            return Ok(request);
        };
        match self.preset(name).await {
            Ok(preset) => Ok(preset.under(request)),
            Err(FarmError::PresetNotFound(_)) => Err(FarmError::InvalidInput(format!(
                "no preset named '{}': GET /api/presets lists them",
                name.chars().take(40).collect::<String>()
            ))),
            Err(e) => Err(e),
        }
    }

    /// Only the farm's own images: a request never names an arbitrary one.
    pub(super) fn check_image(&self, image: &str) -> Result<(), InvalidInput> {
        if self.config.image_allowed(image) {
            return Ok(());
        }
        Err(InvalidInput(format!(
            "the image '{}' is not allowed here: use one of {} (FARM_ALLOWED_IMAGES lists more)",
            image.chars().take(100).collect::<String>(),
            self.config.images().join(", ")
        )))
    }
}
