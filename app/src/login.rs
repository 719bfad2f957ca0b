//! The page's side of the login (the login page itself is served by the server, before any
//! of this may load): a "Log out" button when the farm has a password, and the way back to
//! the login page when a session ends under an open page.

use leptos::prelude::*;

/// Whether this farm asks for a password (and so has a session to end).
#[server(prefix = "/rpc")]
pub async fn login_required() -> Result<bool, ServerFnError> {
    Ok(expect_context::<farm::auth::Auth>().enabled())
}

/// A plain form: logging out works before hydration and without JavaScript.
#[component]
pub fn LogoutButton() -> impl IntoView {
    let required = Resource::new(|| (), |_| login_required());
    view! {
        <Suspense fallback=|| ()>
            {move || required.get().and_then(Result::ok).filter(|on| *on).map(|_| view! {
                <form class="logout" method="post" action="/logout">
                    <button type="submit">"Log out"</button>
                </form>
            })}
        </Suspense>
    }
}

/// Sends the browser to the login page, to come back here afterwards.
#[cfg(feature = "hydrate")]
pub fn go_to_login() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let here = location.pathname().unwrap_or_else(|_| "/".into());
    let next = String::from(js_sys::encode_uri_component(&here));
    location.assign(&format!("/login?next={next}")).ok();
}
