//! Git repository URLs a worker may clone. Each URL is parsed into its parts (scheme, user,
//! host, port, path) and every part is checked on its own: git hands the host and the port
//! to ssh, and any part that starts with `-` could become an option there
//! (`ssh://host:-oProxyCommand=…`). Free of Docker and transport: the browser shares it.

use crate::worker::InvalidInput;

/// Longest git URL accepted, in bytes.
pub const MAX_GIT_URL_BYTES: usize = 2048;

/// What a URL is made of, as git will read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitUrl<'a> {
    /// `https`, `http` or `ssh`; `None` for scp-like `user@host:path`.
    pub scheme: Option<&'a str>,
    /// The user part (for http(s) often a token), without any `:password`.
    pub user: Option<&'a str>,
    pub host: &'a str,
    pub port: Option<u16>,
    pub path: &'a str,
}

/// Accepts `https://`, `http://`, `ssh://` and scp-like `user@host:path` URLs whose every
/// part is plain: a host name or an IP address, a numeric port, a path of segments none of
/// which starts with `-`. Refuses local paths, remote helpers (`ext::`, `file://`) and
/// anything git or ssh could read as an option.
pub fn check_git_url(url: &str) -> Result<&str, InvalidInput> {
    parse(url).map(|_| url)
}

/// Parses `url` into its parts, or says what is wrong with it.
pub fn parse(url: &str) -> Result<GitUrl<'_>, InvalidInput> {
    if url.len() > MAX_GIT_URL_BYTES {
        return Err(InvalidInput(format!(
            "the git URL is too long: use at most {MAX_GIT_URL_BYTES} bytes"
        )));
    }
    if url.starts_with('-') {
        return Err(InvalidInput("the git URL must not start with '-'".into()));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidInput(
            "the git URL contains spaces or control characters: remove them".into(),
        ));
    }
    let parsed = match url.split_once("://") {
        Some((scheme, rest)) => with_scheme(scheme, rest),
        None => scp_like(url),
    };
    parsed.ok_or_else(|| {
        InvalidInput(format!(
            "unsupported git URL '{}': use https://host/path, http://host/path, \
             ssh://[user@]host[:port]/path or user@host:path (a numeric port, no part \
             starting with '-')",
            redact_credentials(url)
        ))
    })
}

/// `scheme://[user[:password]@]host[:port]/path`.
fn with_scheme<'a>(scheme: &'a str, rest: &'a str) -> Option<GitUrl<'a>> {
    if !matches!(scheme, "https" | "http" | "ssh") {
        return None;
    }
    let slash = rest.find('/')?;
    let (authority, path) = rest.split_at(slash);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let user = match userinfo {
        Some(userinfo) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            // ssh takes the user as `-l user`; a token in an https URL is opaque but must
            // not look like an option either.
            if user.is_empty() || user.starts_with('-') || user.contains(['/', '\\']) {
                return None;
            }
            Some(user)
        }
        None => None,
    };
    let (host, port) = split_port(host_port)?;
    if !plain_path(path.trim_start_matches('/')) {
        return None;
    }
    Some(GitUrl {
        scheme: Some(scheme),
        user,
        host,
        port,
        path,
    })
}

/// `user@host:path`, where user and host are plain names (git reads this form only when
/// there is no `://` and the part before the colon has no slash).
fn scp_like(url: &str) -> Option<GitUrl<'_>> {
    let (user_host, path) = url.split_once(':')?;
    // `a@b::c` reads as git's remote-helper syntax (`transport::address`) to a human eye.
    if path.starts_with(':') {
        return None;
    }
    let (user, host) = user_host.split_once('@')?;
    let name = |s: &str| {
        !s.starts_with('-')
            && !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    if !name(user) || !name(host) || !plain_path(path.trim_start_matches('/')) {
        return None;
    }
    Some(GitUrl {
        scheme: None,
        user: Some(user),
        host,
        port: None,
        path,
    })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the port is a number from 1 to 65535.
fn split_port(host_port: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (v6, after) = bracketed.split_once(']')?;
        v6.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            after => Some(after.strip_prefix(':')?),
        };
        (&host_port[..v6.len() + 2], port)
    } else {
        let (host, port) = match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        let host_name = !host.is_empty()
            && !host.starts_with(['-', '.'])
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !host_name {
            return None;
        }
        (host, port)
    };
    let port = match port {
        None => None,
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits.parse::<u16>().ok().filter(|p| *p > 0)?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

/// A repository path: at least one segment, none empty of meaning (`..`) or option-shaped.
fn plain_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains("::")
        && path
            .split('/')
            .all(|segment| !segment.starts_with('-') && segment != "..")
}

/// The URL with its credentials replaced, for display, logs and labels: any user part of an
/// http(s) URL (tokens travel as user names there) and any `user:password@` part.
pub fn redact_credentials(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if matches!(scheme, "https" | "http") || rest[..at].contains(':') {
                return format!("{scheme}://***@{}", &rest[at + 1..]);
            }
        }
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_git_urls_are_accepted() {
        for ok in [
            "https://github.com/user/repo.git",
            "http://example.com/repo",
            "ssh://git@example.com:22/repo.git",
            "ssh://example.com/srv/repo",
            "git@github.com:user/repo.git",
            "https://user:token@example.com/repo.git",
            "https://x-access-token:ghp_abc@github.com/o/r.git",
            "https://[2001:db8::1]:8443/repo.git",
            "https://gitlab.example.com:8443/group/sub/repo",
        ] {
            assert_eq!(check_git_url(ok), Ok(ok));
        }
    }

    #[test]
    fn parts_come_out_as_git_reads_them() {
        let url = parse("ssh://git@example.com:2222/team/repo.git").unwrap();
        assert_eq!(
            url,
            GitUrl {
                scheme: Some("ssh"),
                user: Some("git"),
                host: "example.com",
                port: Some(2222),
                path: "/team/repo.git",
            }
        );
        let scp = parse("git@github.com:user/repo.git").unwrap();
        assert_eq!((scp.scheme, scp.host, scp.port), (None, "github.com", None));
    }

    #[test]
    fn dangerous_git_urls_are_refused() {
        for bad in [
            "--upload-pack=touch /tmp/x",
            "-uhttps://x/y",
            "ext::sh -c touch% /tmp/pwned",
            "ext::ssh",
            // Found by the fuzzer: the scp form with a path that starts with ':'.
            "enTTTT@TTTTTQ::TTTT",
            "file:///etc",
            "/etc/passwd",
            "../other-worker",
            "git://example.com/repo",
            "https://",
            "https://-oProxyCommand=x/y",
            "https://example.com/repo with space",
            "https://example.com/\nrepo",
            "host:path",
            "-user@host:path",
            "user@host:",
            // Options hidden in the port, the user, the host or the path.
            "ssh://host:-oProxyCommand=touch%20x/repo",
            "ssh://host:22-oProxyCommand=x/repo",
            "ssh://-oProxyCommand=x@host/repo",
            "ssh://git@-oProxyCommand=x/repo",
            "ssh://host/-oProxyCommand=x",
            "git@host:-oProxyCommand=x",
            "git@host:repo/--upload-pack=x",
            "ssh://host:0/repo",
            "ssh://host:65536/repo",
            "ssh://host:/repo",
            "https://host:port/repo",
            "ssh://[::1/repo",
            "ssh://[not-v6]/repo",
            "https://host/a/../../b",
            "https://host/",
            "https://.host/repo",
            "https://ho$t/repo",
            "ssh://host/a::b",
        ] {
            assert!(check_git_url(bad).is_err(), "{bad}");
        }
        assert!(check_git_url(&format!("https://x/{}", "a".repeat(3000))).is_err());
    }

    #[test]
    fn a_refusal_says_how_to_write_the_url_without_showing_its_token() {
        let error = check_git_url("https://ghp_secret@host:x/repo").unwrap_err();
        assert!(error.0.contains("numeric port"), "{error}");
        assert!(!error.0.contains("ghp_secret"), "{error}");
    }

    #[test]
    fn credentials_never_leave_in_display_form() {
        assert_eq!(
            redact_credentials("https://user:token@example.com/repo.git"),
            "https://***@example.com/repo.git"
        );
        assert_eq!(
            redact_credentials("https://ghp_abc@github.com/o/r"),
            "https://***@github.com/o/r"
        );
        assert_eq!(
            redact_credentials("ssh://git@example.com/repo"),
            "ssh://git@example.com/repo"
        );
    }
}
