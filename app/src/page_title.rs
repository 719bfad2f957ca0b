//! The document's title, always as text. leptos_meta's `<Title>` writes its text into the
//! server-rendered `<title>` unescaped, so a worker name, a program's title or an id from the
//! URL could close the element and open a script. Every page title goes through here: on the
//! server the text is escaped for HTML; in the browser it is set as `document.title`, which
//! is text already.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PageTitle(#[prop(into)] text: Signal<String>) -> impl IntoView {
    view! { <Title text=move || for_document(&text.get())/> }
}

#[cfg(feature = "ssr")]
fn for_document(text: &str) -> String {
    escape_html(text)
}

#[cfg(not(feature = "ssr"))]
fn for_document(text: &str) -> String {
    text.to_owned()
}

/// Text for HTML content and quoted attributes.
#[cfg(any(feature = "ssr", test))]
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_text() {
        assert_eq!(
            escape_html(r#"</title><script>alert('x')</script>&"#),
            "&lt;/title&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
        assert_eq!(escape_html("plain · name"), "plain · name");
    }
}
