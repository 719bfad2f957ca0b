//! How server-function failures read on the page: the service's message, without framing.

use leptos::prelude::ServerFnError;

pub fn message(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}
