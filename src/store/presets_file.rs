//! The embedded store's presets, kept in a file (under `FARM_STATE_DIR`) so that they outlive
//! the dashboard: unlike workers, Docker cannot give them back. Presets hold no secrets; the
//! file is still readable by its owner only.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::sessions_file::write_private;
use crate::presets::Preset;

#[derive(Default)]
pub struct Presets {
    saved: BTreeMap<String, Preset>,
    file: Option<PathBuf>,
}

impl Presets {
    /// The presets saved in `file`; none when it is missing or cannot be read, and each one
    /// that no longer passes the checks is left out on its own (the checks are read again).
    pub fn load(file: PathBuf) -> Presets {
        let raw: BTreeMap<String, serde_json::Value> = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %file.display(), "ignoring unreadable presets: {e}");
                BTreeMap::new()
            }),
            Err(_) => BTreeMap::new(),
        };
        let saved = raw
            .into_iter()
            .filter_map(|(name, json)| match serde_json::from_value(json) {
                Ok(preset) => Some((name, preset)),
                Err(e) => {
                    tracing::warn!(preset = %name, "ignoring a saved preset: {e}");
                    None
                }
            })
            .collect();
        Presets {
            saved,
            file: Some(file),
        }
    }

    pub fn all(&self) -> BTreeMap<String, Preset> {
        self.saved.clone()
    }

    pub fn put(&mut self, name: &str, preset: &Preset) -> std::io::Result<()> {
        self.saved.insert(name.to_owned(), preset.clone());
        self.save()
    }

    pub fn delete(&mut self, name: &str) -> std::io::Result<bool> {
        let removed = self.saved.remove(name).is_some();
        if removed {
            self.save()?;
        }
        Ok(removed)
    }

    fn save(&self) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        write_private(file, &serde_json::to_vec(&self.saved).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_outlive_a_restart() {
        let dir = std::env::temp_dir().join(format!("cwf-presets-{}", std::process::id()));
        let file = dir.join("farm.presets.json");
        let mut presets = Presets::load(file.clone());
        let preset = Preset {
            model: Some("sonnet".into()),
            ..Default::default()
        };
        presets.put("kept", &preset).unwrap();
        presets.put("dropped", &preset).unwrap();
        assert!(presets.delete("dropped").unwrap());
        assert!(!presets.delete("dropped").unwrap());
        let again = Presets::load(file.clone());
        assert_eq!(again.all().keys().collect::<Vec<_>>(), ["kept"]);
        assert_eq!(again.all()["kept"], preset);
        // One that no longer passes is left out; the others stay.
        std::fs::write(
            &file,
            r#"{"kept": {"model": "sonnet"}, "bad": {"env": {"GH_TOKEN": "x"}}}"#,
        )
        .unwrap();
        assert_eq!(
            Presets::load(file).all().keys().collect::<Vec<_>>(),
            ["kept"]
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
