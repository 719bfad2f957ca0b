//! The agent's status on every page: a badge (cards, tiles, the single view), the count of
//! workers waiting for the user in the page title, and browser notifications with an
//! optional sound when one starts waiting.

use farm::agent::{AgentState, AgentStatus};
use farm::worker::Worker;
use leptos::prelude::*;

/// A worker whose agent waits for the user: it asks something, it finished, or its last
/// turn failed (a limit waits for its reset, not for the user).
pub fn needs_me(worker: &Worker) -> bool {
    worker.agent.as_ref().is_some_and(|a| {
        matches!(
            a.state,
            AgentState::NeedsInput | AgentState::Idle | AgentState::Error
        )
    })
}

/// The page title with the number of workers waiting in front, as mail clients do.
pub fn titled(waiting: usize, title: &str) -> String {
    if waiting == 0 {
        title.to_owned()
    } else {
        format!("({waiting}) {title}")
    }
}

/// The agent's state as a badge; nothing while it is unknown.
#[component]
pub fn AgentBadge(#[prop(into)] agent: Signal<Option<AgentStatus>>) -> impl IntoView {
    move || {
        agent.get().map(|a| {
            let how = match a.source {
                farm::agent::AgentSource::Hook => "Claude Code said so",
                farm::agent::AgentSource::Screen => "read from the terminal",
            };
            view! {
                <span class=format!("badge agent agent-{}", a.state.slug()) data-agent=a.state.slug() title=how>
                    {a.state.label()}
                </span>
            }
        })
    }
}

/// The line the agent asks or ended with, under a card's badge.
#[component]
pub fn AgentLine(#[prop(into)] agent: Signal<Option<AgentStatus>>) -> impl IntoView {
    move || {
        agent.get().and_then(|a| {
            let line = a.line?;
            (a.state != AgentState::Working).then(|| {
                let title = line.clone();
                view! {
                    <p class=format!("agent-line agent-{}", a.state.slug()) title=title>{line}</p>
                }
            })
        })
    }
}

/// Notifies when a worker starts waiting for the user, except those in front of them.
/// `looking_at` names the workers whose terminals the page shows.
#[component]
pub fn AgentAlerts(
    #[prop(into)] workers: Signal<Vec<Worker>>,
    #[prop(into)] looking_at: Signal<Vec<String>>,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let seen = StoredValue::new(None::<Vec<(String, AgentState)>>);
        Effect::new(move || {
            let list = workers.get();
            let now: Vec<(String, AgentState)> = list
                .iter()
                .filter_map(|w| Some((w.id.clone(), w.agent.as_ref()?.state)))
                .collect();
            // The first list is what the page opened on: nothing new happened.
            if let Some(before) = seen.get_value() {
                let front = looking_at.get_untracked();
                for worker in &list {
                    let Some(agent) = &worker.agent else { continue };
                    let was = before
                        .iter()
                        .find(|(id, _)| *id == worker.id)
                        .map(|(_, s)| *s);
                    if alerts::worth_telling(was, agent.state)
                        && !alerts::in_front(&front, &worker.id)
                    {
                        alerts::tell(alerts::settings(), worker, agent);
                    }
                }
            }
            seen.set_value(Some(now));
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (workers, looking_at);
}

/// The buttons that turn notifications and their sound on and off in this browser.
#[component]
pub fn AlertToggles() -> impl IntoView {
    view! { <alerts::Toggles settings=alerts::settings()/> }
}

/// Makes the alert settings one for the whole app (the toggles and every page's alerts).
pub fn provide_alert_settings() {
    provide_context(alerts::Settings::load());
}

mod alerts {
    #[cfg(any(feature = "hydrate", test))]
    use farm::agent::AgentState;
    #[cfg(feature = "hydrate")]
    use farm::agent::AgentStatus;
    #[cfg(feature = "hydrate")]
    use farm::worker::Worker;
    use leptos::prelude::*;

    /// Whether a change of state is news: the agent asks, has just finished, or has just
    /// stopped on a limit or an error.
    #[cfg(any(feature = "hydrate", test))]
    pub fn worth_telling(was: Option<AgentState>, now: AgentState) -> bool {
        match now {
            AgentState::NeedsInput | AgentState::Limited | AgentState::Error => was != Some(now),
            AgentState::Idle => was == Some(AgentState::Working),
            AgentState::Working | AgentState::NoAgent => false,
        }
    }

    /// The worker is on screen in front of the user: its terminal is on the page, and the
    /// page is visible.
    #[cfg(feature = "hydrate")]
    pub fn in_front(front: &[String], id: &str) -> bool {
        front.iter().any(|shown| shown == id)
            && web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
    }

    /// Notifications and sound, as the user set them in this browser.
    #[derive(Clone, Copy)]
    pub struct Settings {
        /// The browser lets the page notify.
        pub notify: RwSignal<bool>,
        pub sound: RwSignal<bool>,
    }

    /// The app's settings (`provide_alert_settings`).
    pub fn settings() -> Settings {
        expect_context::<Settings>()
    }

    #[cfg(feature = "hydrate")]
    const SOUND_KEY: &str = "claude-worker-farm.sound";

    impl Settings {
        /// Off as the server renders; read from the browser once the page is live.
        pub fn load() -> Settings {
            let settings = Settings {
                notify: RwSignal::new(false),
                sound: RwSignal::new(false),
            };
            #[cfg(feature = "hydrate")]
            Effect::new(move |_| {
                settings
                    .notify
                    .set(permission() == web_sys::NotificationPermission::Granted);
                let saved = storage().and_then(|s| s.get_item(SOUND_KEY).ok().flatten());
                settings.sound.set(saved.as_deref() == Some("on"));
            });
            settings
        }
    }

    #[cfg(feature = "hydrate")]
    fn permission() -> web_sys::NotificationPermission {
        // Browsers without notifications (some phones) have no `Notification` at all.
        let has_api =
            js_sys::Reflect::has(&js_sys::global(), &"Notification".into()).unwrap_or(false);
        if has_api {
            web_sys::Notification::permission()
        } else {
            web_sys::NotificationPermission::Denied
        }
    }

    #[cfg(feature = "hydrate")]
    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    /// The buttons that turn notifications and sound on and off.
    #[component]
    pub fn Toggles(settings: Settings) -> impl IntoView {
        let on_notify = move |_| {
            #[cfg(feature = "hydrate")]
            {
                if settings.notify.get_untracked() {
                    // A page cannot take back a permission: it only stops using it.
                    settings.notify.set(false);
                    return;
                }
                if let Ok(asked) = web_sys::Notification::request_permission() {
                    wasm_bindgen_futures::spawn_local(async move {
                        let answer = wasm_bindgen_futures::JsFuture::from(asked).await;
                        let granted =
                            answer.ok().and_then(|a| a.as_string()).as_deref() == Some("granted");
                        settings.notify.set(granted);
                    });
                }
            }
        };
        let on_sound = move |_| {
            settings.sound.update(|on| *on = !*on);
            #[cfg(feature = "hydrate")]
            if let Some(storage) = storage() {
                let value = if settings.sound.get_untracked() {
                    "on"
                } else {
                    "off"
                };
                storage.set_item(SOUND_KEY, value).ok();
            }
        };
        view! {
            <button class="toggle alert-toggle" aria-pressed=move || settings.notify.get().to_string()
                on:click=on_notify title="A notification when a worker asks for you or finishes">
                "Notify"
            </button>
            <button class="toggle alert-toggle" aria-pressed=move || settings.sound.get().to_string()
                on:click=on_sound title="A short sound with each notification">
                "Sound"
            </button>
        }
    }

    /// Shows the notification (and plays the sound); a click opens the worker.
    #[cfg(feature = "hydrate")]
    pub fn tell(settings: Settings, worker: &Worker, agent: &AgentStatus) {
        use wasm_bindgen::prelude::*;

        if settings.sound.get_untracked() {
            beep();
        }
        if !settings.notify.get_untracked()
            || permission() != web_sys::NotificationPermission::Granted
        {
            return;
        }
        let what = match agent.state {
            AgentState::NeedsInput => "needs you",
            AgentState::Limited => "reached a usage limit",
            AgentState::Error => "stopped on an error",
            _ => "finished",
        };
        let options = web_sys::NotificationOptions::new();
        options.set_body(agent.line.as_deref().unwrap_or(""));
        // One notification per worker: a newer one replaces the older.
        options.set_tag(&format!("worker-{}", worker.id));
        let Ok(notification) =
            web_sys::Notification::new_with_options(&format!("{} {what}", worker.name), &options)
        else {
            return;
        };
        let url = worker.terminal_url.clone();
        let on_click = Closure::<dyn Fn()>::new(move || {
            if let Some(window) = web_sys::window() {
                window.focus().ok();
                window.location().set_href(&url).ok();
            }
        });
        notification.set_onclick(Some(on_click.as_ref().unchecked_ref()));
        // The notification owns its handler for as long as it lives.
        on_click.forget();
    }

    /// A short two-tone chime, made on the spot (no sound file to fetch).
    #[cfg(feature = "hydrate")]
    fn beep() {
        let Ok(context) = web_sys::AudioContext::new() else {
            return;
        };
        let now = context.current_time();
        for (i, frequency) in [880.0_f32, 1320.0].into_iter().enumerate() {
            let (Ok(tone), Ok(gain)) = (context.create_oscillator(), context.create_gain()) else {
                return;
            };
            tone.frequency().set_value(frequency);
            let start = now + 0.12 * i as f64;
            gain.gain().set_value_at_time(0.15, start).ok();
            gain.gain()
                .exponential_ramp_to_value_at_time(0.001, start + 0.25)
                .ok();
            if tone.connect_with_audio_node(&gain).is_err()
                || gain
                    .connect_with_audio_node(&context.destination())
                    .is_err()
            {
                return;
            }
            tone.start_with_when(start).ok();
            tone.stop_with_when(start + 0.3).ok();
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn only_asking_and_finishing_are_news() {
            use AgentState::*;
            assert!(worth_telling(Some(Working), NeedsInput));
            assert!(worth_telling(None, NeedsInput));
            assert!(!worth_telling(Some(NeedsInput), NeedsInput));
            assert!(worth_telling(Some(Working), Idle));
            // Idle after idle or after nothing known: nothing finished just now.
            assert!(!worth_telling(Some(Idle), Idle));
            assert!(!worth_telling(None, Idle));
            assert!(!worth_telling(Some(NeedsInput), Working));
            assert!(!worth_telling(Some(Working), NoAgent));
            assert!(worth_telling(Some(Working), Limited));
            assert!(worth_telling(Some(Working), Error));
            assert!(!worth_telling(Some(Error), Error));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_counts_waiting_workers() {
        assert_eq!(titled(0, "Claude Worker Farm"), "Claude Worker Farm");
        assert_eq!(titled(3, "Claude Worker Farm"), "(3) Claude Worker Farm");
    }
}
