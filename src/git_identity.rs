//! Who a worker's commits say wrote them (`git_author_name`, `git_author_email`), and the
//! token it clones and pushes with (`git_token`, handed to git by a credential helper, never
//! in the URL). Shared with the browser.

use crate::worker::InvalidInput;

/// Longest author name or email, in characters.
pub const MAX_AUTHOR_CHARS: usize = 100;
/// Longest git token, in bytes (GitHub's fine-grained tokens are 93).
pub const MAX_TOKEN_BYTES: usize = 1024;

/// A name git can write in a commit: bounded, one line, without the `<>` that frame the email.
pub fn check_author_name(name: &str) -> Result<(), InvalidInput> {
    if name.chars().count() > MAX_AUTHOR_CHARS
        || name.chars().any(|c| c.is_control() || c == '<' || c == '>')
    {
        return Err(InvalidInput(format!(
            "git_author_name must be one line of at most {MAX_AUTHOR_CHARS} characters, \
             without < or >"
        )));
    }
    Ok(())
}

/// An email git can write in a commit: `someone@somewhere`, no spaces, no `<>`.
pub fn check_author_email(email: &str) -> Result<(), InvalidInput> {
    let plain = email.chars().count() <= MAX_AUTHOR_CHARS
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    let shaped = email
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty() && !host.contains('@'));
    if !plain || !shaped {
        return Err(InvalidInput(format!(
            "git_author_email must look like name@example.com (at most {MAX_AUTHOR_CHARS} \
             characters, no spaces)"
        )));
    }
    Ok(())
}

/// A token goes with an http(s) repository: git asks the credential helper only there.
pub fn check_token(token: &str, git_repo: Option<&str>) -> Result<(), InvalidInput> {
    let Some(repo) = git_repo else {
        return Err(InvalidInput(
            "git_token needs a git_repo: give the https:// repository it opens".into(),
        ));
    };
    let lower = repo.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(InvalidInput(
            "git_token works with https:// repositories (ssh uses keys): give the repository's \
             https:// URL"
                .into(),
        ));
    }
    if token.len() > MAX_TOKEN_BYTES || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidInput(format!(
            "git_token must be one word of at most {MAX_TOKEN_BYTES} characters: paste the \
             token alone"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authors_are_one_line() {
        assert!(check_author_name("Ada Lovelace").is_ok());
        assert!(check_author_name("Ada\nEvil").is_err());
        assert!(check_author_name("Ada <x>").is_err());
        assert!(check_author_email("ada@example.com").is_ok());
        for bad in ["ada", "@x", "ada@", "a b@c", "a@b@c", "<a@b>"] {
            assert!(check_author_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_go_with_https_repositories() {
        let https = Some("https://github.com/me/private.git");
        assert!(check_token("ghp_abc", https).is_ok());
        assert!(check_token("ghp_abc", None)
            .unwrap_err()
            .0
            .contains("needs a git_repo"));
        assert!(check_token("ghp_abc", Some("git@github.com:me/p.git"))
            .unwrap_err()
            .0
            .contains("https://"));
        assert!(check_token("ghp abc", https).is_err());
    }
}
