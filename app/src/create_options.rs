//! The create form's further options: a preset to start from, plain variables and secrets,
//! a git token and author, Claude Code's model and permission mode. The form sends them as
//! text; [`FormOptions::apply`] turns them into the request the service checks, in the
//! server function and, as the user types, in the browser.

use farm::claude_options::PermissionMode;
use farm::worker::{InvalidInput, NewWorker};
use farm::worker_env::{parse_lines, SecretValue};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The options as the form holds them: text, empty when not given (`Debug` hides the secrets).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FormOptions {
    pub preset: String,
    /// `NAME=value` lines.
    pub env: String,
    /// `NAME=value` lines whose values are secrets.
    pub secrets: SecretValue,
    pub git_token: SecretValue,
    pub git_author_name: String,
    pub git_author_email: String,
    pub model: String,
    pub permission_mode: String,
}

impl FormOptions {
    /// `request` with these options; what is empty is left to the preset and the farm.
    pub fn apply(&self, mut request: NewWorker) -> Result<NewWorker, InvalidInput> {
        let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        request.preset = text(&self.preset);
        request.env = parse_lines(&self.env, "Environment")?;
        request.secrets = parse_lines(self.secrets.expose(), "Secrets")?
            .into_iter()
            .map(|(name, value)| (name, SecretValue::from(value)))
            .collect();
        request.git_token = text(self.git_token.expose()).map(SecretValue::from);
        request.git_author_name = text(&self.git_author_name);
        request.git_author_email = text(&self.git_author_email);
        request.model = text(&self.model);
        request.permission_mode = text(&self.permission_mode)
            .map(|mode| mode.parse())
            .transpose()?;
        Ok(request)
    }
}

/// The fields, inside the create form; each is named after its place in the server
/// function's `options` argument.
#[component]
pub fn OptionsFields(
    options: RwSignal<FormOptions>,
    presets: Signal<Vec<String>>,
) -> impl IntoView {
    let set = move |field: fn(&mut FormOptions) -> &mut String| {
        move |e: leptos::ev::Event| options.update(|o| *field(o) = event_target_value(&e))
    };
    let set_secret = move |field: fn(&mut FormOptions) -> &mut SecretValue| {
        move |e: leptos::ev::Event| options.update(|o| *field(o) = event_target_value(&e).into())
    };
    view! {
        <label>
            <span>"Preset"</span>
            <select name="options[preset]" on:change=set(|o| &mut o.preset)>
                <option value="">"(none)"</option>
                {move || presets.get().into_iter().map(|name| view! {
                    <option value=name.clone()>{name.clone()}</option>
                }).collect_view()}
            </select>
        </label>
        <details class="create-more">
            <summary>"Environment, secrets, git, model"</summary>
            <label>
                <span>"Environment (NAME=value a line, shown)"</span>
                <textarea name="options[env]" rows="2" spellcheck="false" autocomplete="off"
                    placeholder="RUST_LOG=debug" on:input=set(|o| &mut o.env)></textarea>
            </label>
            <label>
                <span>"Secrets (NAME=value a line, never shown)"</span>
                <textarea name="options[secrets]" rows="2" spellcheck="false" autocomplete="off"
                    class="secret-field" placeholder="GH_TOKEN=…" on:input=set_secret(|o| &mut o.secrets)></textarea>
            </label>
            <label>
                <span>"Git token (private https repositories)"</span>
                <input type="password" name="options[git_token]" autocomplete="off"
                    on:input=set_secret(|o| &mut o.git_token)/>
            </label>
            <label>
                <span>"Git author name"</span>
                <input type="text" name="options[git_author_name]" autocomplete="off" maxlength="100"
                    on:input=set(|o| &mut o.git_author_name)/>
            </label>
            <label>
                <span>"Git author email"</span>
                <input type="email" name="options[git_author_email]" autocomplete="off" maxlength="100"
                    on:input=set(|o| &mut o.git_author_email)/>
            </label>
            <label>
                <span>"Model"</span>
                <input type="text" name="options[model]" placeholder="sonnet" autocomplete="off"
                    autocapitalize="off" spellcheck="false" on:input=set(|o| &mut o.model)/>
            </label>
            <label>
                <span>"Permission mode"</span>
                <PermissionModes name="options[permission_mode]" on_change=set(|o| &mut o.permission_mode)/>
            </label>
        </details>
    }
}

/// Claude Code's permission modes, and "as the preset or Claude Code says".
#[component]
pub fn PermissionModes(
    name: &'static str,
    on_change: impl Fn(leptos::ev::Event) + 'static,
) -> impl IntoView {
    view! {
        <select name=name on:change=on_change>
            <option value="">"(Claude Code's default)"</option>
            {PermissionMode::ALL.into_iter().map(|mode| view! {
                <option value=mode.as_str()>{mode.as_str()}</option>
            }).collect_view()}
        </select>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_text_becomes_a_request() {
        let options = FormOptions {
            env: "A=1\n".into(),
            secrets: SecretValue::from("GH_TOKEN=ghp_x".to_owned()),
            model: " sonnet ".into(),
            permission_mode: "plan".into(),
            ..Default::default()
        };
        assert!(!format!("{options:?}").contains("ghp_x"));
        let request = options.apply(NewWorker::default()).unwrap();
        assert_eq!(request.env["A"], "1");
        assert_eq!(request.secrets["GH_TOKEN"].expose(), "ghp_x");
        assert_eq!(request.model.as_deref(), Some("sonnet"));
        assert_eq!(request.permission_mode, Some(PermissionMode::Plan));
        assert_eq!(request.preset, None);
        let bad = FormOptions {
            permission_mode: "yolo".into(),
            ..Default::default()
        };
        assert!(bad.apply(NewWorker::default()).is_err());
    }
}
