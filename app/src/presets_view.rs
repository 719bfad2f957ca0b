//! Presets on the dashboard: the panel that saves one (image, limits, environment,
//! repository, model, permission mode) and lists those saved, each with a delete button. The
//! create form picks one by name. Presets hold no secrets; the service refuses them.

use std::collections::BTreeMap;

use farm::presets::Preset;
#[cfg(feature = "ssr")]
use farm::worker::InvalidInput;
#[cfg(feature = "ssr")]
use farm::worker_env::parse_lines;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::create_options::PermissionModes;
use crate::errors::message;

#[server(prefix = "/rpc")]
pub async fn list_presets() -> Result<BTreeMap<String, Preset>, ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    service.presets().await.map_err(ServerFnError::new)
}

/// The form's fields arrive as `preset[image]`, `preset[env]`…
#[server(prefix = "/rpc")]
pub async fn save_preset(name: String, preset: PresetForm) -> Result<(), ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    let preset = preset.preset().map_err(|e| ServerFnError::new(e.0))?;
    service
        .save_preset(name.trim(), preset)
        .await
        .map(|_| ())
        .map_err(ServerFnError::new)
}

#[server(prefix = "/rpc")]
pub async fn delete_preset(name: String) -> Result<(), ServerFnError> {
    let service = expect_context::<farm::WorkerService>();
    service
        .delete_preset(&name)
        .await
        .map_err(ServerFnError::new)
}

/// The preset form's text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PresetForm {
    image: String,
    memory_mb: String,
    cpus: String,
    env: String,
    git_repo: String,
    model: String,
    permission_mode: String,
}

#[cfg(feature = "ssr")]
impl PresetForm {
    fn preset(self) -> Result<Preset, InvalidInput> {
        let text = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let preset = Preset {
            image: text(self.image),
            memory_mb: number(&self.memory_mb, "Memory (MiB)")?,
            cpus: number(&self.cpus, "CPUs")?,
            env: parse_lines(&self.env, "Environment")?,
            git_repo: text(self.git_repo),
            model: text(self.model),
            permission_mode: text(self.permission_mode)
                .map(|mode| mode.parse())
                .transpose()?,
        };
        preset.check()?;
        Ok(preset)
    }
}

/// The presets and the actions that change them, shared by the panel and the create form.
#[derive(Clone, Copy)]
pub struct Presets {
    save: ServerAction<SavePreset>,
    delete: ServerAction<DeletePreset>,
    list: Resource<Result<BTreeMap<String, Preset>, ServerFnError>>,
}

/// The presets of the page, refreshed after each save and delete.
pub fn use_presets() -> Presets {
    let save = ServerAction::<SavePreset>::new();
    let delete = ServerAction::<DeletePreset>::new();
    let list = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_presets(),
    );
    Presets { save, delete, list }
}

impl Presets {
    /// The names saved, for the create form's choice (empty while they load).
    pub fn names(self) -> Signal<Vec<String>> {
        Signal::derive(move || {
            self.list
                .get()
                .and_then(Result::ok)
                .map(|all| all.into_keys().collect())
                .unwrap_or_default()
        })
    }
}

#[component]
pub fn PresetsPanel(presets: Presets) -> impl IntoView {
    let Presets { save, delete, list } = presets;
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move || {
        if matches!(save.value().get(), Some(Ok(()))) {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    let error = move || {
        let failed =
            |e: ServerFnError| view! { <p class="form-error" role="alert">{message(&e)}</p> };
        save.value()
            .get()
            .and_then(Result::err)
            .map(failed)
            .or_else(|| delete.value().get().and_then(Result::err).map(failed))
    };
    view! {
        <details class="panel presets-panel">
            <summary>"Presets"</summary>
            <ActionForm action=save node_ref=form attr:class="create-form preset-form">
                <label><span>"Preset name"</span>
                    <input type="text" name="name" placeholder="rust-fixer" maxlength="40" autocomplete="off"/></label>
                <label><span>"Image (one the farm allows)"</span>
                    <input type="text" name="preset[image]" placeholder="the farm's image" autocomplete="off"/></label>
                <label><span>"Memory (MiB)"</span>
                    <input type="text" inputmode="numeric" name="preset[memory_mb]" autocomplete="off"/></label>
                <label><span>"CPUs"</span>
                    <input type="text" inputmode="decimal" name="preset[cpus]" autocomplete="off"/></label>
                <label><span>"Git repository"</span>
                    <input type="text" name="preset[git_repo]" autocomplete="off" autocapitalize="off" spellcheck="false"/></label>
                <label><span>"Environment (NAME=value a line; no secrets)"</span>
                    <textarea name="preset[env]" rows="2" spellcheck="false" autocomplete="off"></textarea></label>
                <label><span>"Model"</span>
                    <input type="text" name="preset[model]" placeholder="sonnet" autocomplete="off" autocapitalize="off"/></label>
                <label><span>"Permission mode"</span>
                    <PermissionModes name="preset[permission_mode]" on_change=|_| ()/></label>
                <button type="submit" disabled=move || save.pending().get()>"Save preset"</button>
            </ActionForm>
            {error}
            <Transition fallback=|| ()>
                {move || list.get().and_then(Result::ok).map(|all| view! {
                    <ul class="preset-list">
                        {all.into_iter().map(|(name, preset)| {
                            let summary = describe(&preset);
                            let id = name.clone();
                            view! {
                                <li data-preset=name.clone()>
                                    <strong>{name.clone()}</strong>" "<span class="hint">{summary}</span>
                                    <button class="danger" on:click=move |_| {
                                        delete.dispatch(DeletePreset { name: id.clone() });
                                    }>"Delete"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })}
            </Transition>
        </details>
    }
}

/// An optional number from a form field.
#[cfg(feature = "ssr")]
fn number<T: std::str::FromStr>(text: &str, field: &str) -> Result<Option<T>, InvalidInput> {
    let text = text.trim();
    (!text.is_empty())
        .then(|| text.parse())
        .transpose()
        .map_err(|_| InvalidInput(format!("{field} must be a number, not '{text}'")))
}

/// One line that says what a preset sets.
fn describe(preset: &Preset) -> String {
    let mut parts = Vec::new();
    if let Some(image) = &preset.image {
        parts.push(image.clone());
    }
    if let Some(memory) = preset.memory_mb {
        parts.push(format!("{memory} MiB"));
    }
    if let Some(cpus) = preset.cpus {
        parts.push(format!("{cpus} CPUs"));
    }
    if let Some(repo) = &preset.git_repo {
        parts.push(repo.clone());
    }
    if !preset.env.is_empty() {
        let names: Vec<&str> = preset.env.keys().map(String::as_str).collect();
        parts.push(names.join(" "));
    }
    if let Some(model) = &preset.model {
        parts.push(model.clone());
    }
    if let Some(mode) = preset.permission_mode {
        parts.push(mode.as_str().to_owned());
    }
    parts.join(" · ")
}
