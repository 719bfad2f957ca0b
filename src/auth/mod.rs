//! Who may use the dashboard. With authentication on, one password (kept as an argon2 hash)
//! opens a session: a random token that the browser keeps in an HttpOnly cookie and scripts
//! send as a bearer token. The store keeps only the token's SHA-256, so neither a Redis dump
//! nor a log holds a usable token. Logging out ends the session at once on this dashboard,
//! including its open terminals and event streams, and in the store for every other.

pub mod limiter;
pub mod origin;
pub mod password;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Semaphore};

use crate::config::{AuthMode, Config};
use crate::error::FarmError;
use crate::store::Store;

use self::limiter::{Client, LoginLimiter};
use self::password::StoredPassword;

/// Name of the session cookie.
pub const COOKIE: &str = "cwf_session";
/// Name of the cookie that marks a browser that has logged in before: its logins are not
/// held back by what strangers do (`limiter`).
pub const DEVICE_COOKIE: &str = "cwf_device";
/// How long a browser stays known after its last login.
pub const DEVICE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// Every token starts so, which lets secret scanners recognise one.
pub const TOKEN_PREFIX: &str = "cwf_";
/// How long a session confirmed by the store is taken as valid without asking it again: a
/// Redis that stops answering does not log everyone out at once.
const CONFIRMED_FOR: Duration = Duration::from_secs(30);
/// Password checks at once: each costs tens of milliseconds of CPU and ~19 MiB.
const PARALLEL_CHECKS: usize = 2;

/// The dashboard's authentication; `Auth::off()` lets every request through.
#[derive(Clone)]
pub struct Auth {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    password: StoredPassword,
    store: Store,
    lifetime: Duration,
    limiter: LoginLimiter,
    checks: Semaphore,
    /// Sessions this dashboard has seen valid, by key, with when the store last said so.
    known: Mutex<HashMap<String, Instant>>,
    /// Bumped whenever sessions end here, so open connections can look whether theirs did.
    ended: watch::Sender<u64>,
}

/// A session just opened: the token is shown once, to whoever logged in.
pub struct NewSession {
    pub token: String,
    pub lifetime: Duration,
    /// The browser's device token (for [`DEVICE_COOKIE`]): the one it came with if known,
    /// else a new one.
    pub device: String,
}

impl Auth {
    pub fn off() -> Auth {
        Auth { inner: None }
    }

    /// Authentication as configured for a dashboard listening on `listen`: on when a
    /// password is set, and required (refusing to start without a password) whenever the
    /// dashboard can be reached from other machines, unless `FARM_AUTH=off`.
    pub fn from_config(config: &Config, listen: SocketAddr, store: Store) -> Result<Auth, String> {
        let password = match (&config.password_hash, &config.password) {
            (Some(hash), _) if hash.is_set() => Some(StoredPassword::parse(hash.expose())?),
            (_, Some(plain)) if plain.is_set() => Some(
                StoredPassword::hash(plain.expose()).map_err(|e| format!("FARM_PASSWORD: {e}"))?,
            ),
            _ => None,
        };
        let wanted = match config.auth {
            AuthMode::Off => false,
            AuthMode::On => true,
            AuthMode::Auto => password.is_some() || !listen.ip().is_loopback(),
        };
        if !wanted {
            return Ok(Auth::off());
        }
        let password = password.ok_or_else(|| {
            format!(
                "the dashboard on {listen} needs a password: set FARM_PASSWORD_HASH (make one with \
                 `claude-worker-farm hash-password`) or FARM_PASSWORD, or listen on 127.0.0.1"
            )
        })?;
        let (ended, _) = watch::channel(0);
        Ok(Auth {
            inner: Some(Arc::new(Inner {
                password,
                store,
                lifetime: Duration::from_secs(config.session_hours.max(1) * 3600),
                limiter: LoginLimiter::default(),
                checks: Semaphore::new(PARALLEL_CHECKS),
                known: Mutex::default(),
                ended,
            })),
        })
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Checks the password of a login from `address` (with the device token the browser
    /// holds, if any) and opens a session.
    pub async fn login(
        &self,
        address: IpAddr,
        device: Option<&str>,
        password: &str,
    ) -> Result<NewSession, FarmError> {
        let Some(inner) = &self.inner else {
            return Err(FarmError::InvalidInput(
                "this dashboard has no password: there is nothing to log in to".into(),
            ));
        };
        let known_device = match device {
            Some(token) if token.starts_with(TOKEN_PREFIX) => {
                let key = device_key(token);
                // A store that does not answer makes it an unknown device, nothing worse.
                let known = inner.store.has_session(&key).await.unwrap_or(false);
                known.then_some(key)
            }
            _ => None,
        };
        let client = match &known_device {
            Some(key) => Client::Device(key.clone()),
            None => Client::address(address),
        };
        let attempt = inner
            .limiter
            .begin(client, Instant::now())
            .map_err(|wait| FarmError::TooManyAttempts(wait.as_secs().max(1)))?;
        let matches = {
            let _permit =
                inner.checks.acquire().await.map_err(|_| {
                    FarmError::Unauthorized("the dashboard is shutting down".into())
                })?;
            let stored = inner.password.clone();
            let given = password.to_owned();
            tokio::task::spawn_blocking(move || stored.matches(&given))
                .await
                .unwrap_or(false)
        };
        if !matches {
            return Err(FarmError::Unauthorized("wrong password".into()));
        }
        inner.limiter.succeeded(attempt, Instant::now());
        let device = match (known_device, device) {
            (Some(_), Some(token)) => token.to_owned(),
            _ => new_token(),
        };
        // Seen again: the device stays known for another year.
        inner
            .store
            .add_session(&device_key(&device), DEVICE_LIFETIME)
            .await?;
        let token = new_token();
        let key = session_key(&token);
        inner.store.add_session(&key, inner.lifetime).await?;
        inner.known().insert(key, Instant::now());
        Ok(NewSession {
            token,
            lifetime: inner.lifetime,
            device,
        })
    }

    /// Whether `token` belongs to a live session.
    pub async fn check(&self, token: &str) -> Result<bool, FarmError> {
        let Some(inner) = &self.inner else {
            return Ok(true);
        };
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(false);
        }
        let key = session_key(token);
        let confirmed = inner.known().get(&key).copied();
        if confirmed.is_some_and(|at| at.elapsed() < CONFIRMED_FOR) {
            return Ok(true);
        }
        match inner.store.has_session(&key).await {
            Ok(true) => {
                inner.known().insert(key, Instant::now());
                Ok(true)
            }
            Ok(false) => {
                inner.known().remove(&key);
                Ok(false)
            }
            // The store is away: a session this dashboard has seen stays open meanwhile.
            Err(_) if confirmed.is_some() => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Ends one session.
    pub async fn logout(&self, token: &str) -> Result<(), FarmError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let key = session_key(token);
        inner.known().remove(&key);
        inner.ended.send_modify(|n| *n += 1);
        inner.store.end_session(&key).await
    }

    /// Ends every session: every browser and script must log in again.
    pub async fn logout_everywhere(&self) -> Result<(), FarmError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        inner.known().clear();
        inner.ended.send_modify(|n| *n += 1);
        inner.store.end_all_sessions().await
    }

    /// Completes when the session of `token` ends on this dashboard (never when
    /// authentication is off): open terminals and event streams stop with it.
    pub async fn ended(&self, token: &str) {
        let Some(inner) = &self.inner else {
            return std::future::pending().await;
        };
        let key = session_key(token);
        let mut changes = inner.ended.subscribe();
        loop {
            // Looked at after subscribing: an end between the two is not missed.
            if !inner.known().contains_key(&key) {
                return;
            }
            if changes.changed().await.is_err() {
                break;
            }
        }
        std::future::pending().await
    }
}

impl Inner {
    fn known(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// 32 random bytes from a cryptographically secure generator seeded by the operating
/// system, URL-safe.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!("{TOKEN_PREFIX}{encoded}")
}

/// What the store keeps of a device token: apart from sessions, so that a device token never
/// opens a session.
fn device_key(token: &str) -> String {
    format!("device-{}", session_key(token))
}

/// What the store keeps of a token.
fn session_key(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::store::EmbeddedStore;

    fn config(args: &[&str]) -> Config {
        let mut argv = vec!["farm"];
        argv.extend_from_slice(args);
        Config::parse_from(argv)
    }

    fn store() -> Store {
        Store::Embedded(EmbeddedStore::default())
    }

    const LOOPBACK: &str = "127.0.0.1:8080";
    const EVERYWHERE: &str = "0.0.0.0:8080";

    #[test]
    fn on_by_default_beyond_loopback_and_never_without_a_password() {
        let auth = |args: &[&str], listen: &str| {
            Auth::from_config(&config(args), listen.parse().unwrap(), store())
        };
        assert!(!auth(&[], LOOPBACK).unwrap().enabled());
        let refused = auth(&[], EVERYWHERE).err().unwrap();
        assert!(refused.contains("FARM_PASSWORD_HASH"), "{refused}");
        assert!(auth(&["--password", "long enough pw"], EVERYWHERE)
            .unwrap()
            .enabled());
        assert!(auth(&["--password", "long enough pw"], LOOPBACK)
            .unwrap()
            .enabled());
        assert!(auth(&["--auth", "on"], LOOPBACK).is_err());
        assert!(!auth(&["--auth", "off"], EVERYWHERE).unwrap().enabled());
        let short = auth(&["--password", "short"], EVERYWHERE).err().unwrap();
        assert!(short.contains("FARM_PASSWORD"), "{short}");
        let hash = StoredPassword::hash("long enough pw").unwrap();
        assert!(auth(&["--password-hash", hash.phc()], EVERYWHERE)
            .unwrap()
            .enabled());
    }

    #[tokio::test]
    async fn a_session_opens_with_the_password_and_ends_at_logout() {
        let config = config(&["--password", "long enough pw"]);
        let auth = Auth::from_config(&config, LOOPBACK.parse().unwrap(), store()).unwrap();
        let client = IpAddr::from([127, 0, 0, 1]);
        let wrong = auth
            .login(client, None, "long enough PW")
            .await
            .err()
            .unwrap();
        assert_eq!(wrong.code(), "unauthorized");
        let one = auth.login(client, None, "long enough pw").await.unwrap();
        let two = auth
            .login(client, Some(&one.device), "long enough pw")
            .await
            .unwrap();
        // The browser that came back is the same device; its device token opens nothing.
        assert_eq!(two.device, one.device);
        assert!(!auth.check(&one.device).await.unwrap());
        assert!(one.token.starts_with(TOKEN_PREFIX) && one.token.len() > 40);
        assert_ne!(one.token, two.token);
        assert!(auth.check(&one.token).await.unwrap());
        assert!(!auth.check("cwf_made-up").await.unwrap());
        assert!(!auth.check("").await.unwrap());

        // Logging out ends that session (and says so to whoever waits on it), not the other.
        let waiting = tokio::spawn({
            let auth = auth.clone();
            let token = one.token.clone();
            async move { auth.ended(&token).await }
        });
        auth.logout(&one.token).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
        assert!(!auth.check(&one.token).await.unwrap());
        assert!(auth.check(&two.token).await.unwrap());
        auth.logout_everywhere().await.unwrap();
        assert!(!auth.check(&two.token).await.unwrap());
    }

    #[tokio::test]
    async fn wrong_passwords_sent_at_once_are_held_back_like_one_after_the_other() {
        let config = config(&["--password", "long enough pw"]);
        let auth = Auth::from_config(&config, LOOPBACK.parse().unwrap(), store()).unwrap();
        let client = IpAddr::from([192, 0, 2, 1]);
        let guesses = (0..100).map(|n| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.login(client, None, &format!("guess {n}")).await })
        });
        let mut checked = 0;
        let mut held_back = 0;
        for guess in guesses {
            match guess.await.unwrap() {
                Err(e) if e.code() == "unauthorized" => checked += 1,
                Err(FarmError::TooManyAttempts(_)) => held_back += 1,
                other => panic!("unexpected: {:?}", other.map(|s| s.lifetime)),
            }
        }
        assert_eq!(checked, limiter::PER_CLIENT);
        assert_eq!(held_back, 100 - limiter::PER_CLIENT);
        // The owner logged in before, from another address and browser; then strangers
        // guess from many addresses until everyone unknown is held back.
        let other = IpAddr::from([192, 0, 2, 2]);
        let owner = auth.login(other, None, "long enough pw").await.unwrap();
        for n in 0..limiter::OVERALL {
            let stranger = IpAddr::from([198, 51, 100, u8::try_from(n).unwrap()]);
            auth.login(stranger, None, "guess").await.err().unwrap();
        }
        let stranger = IpAddr::from([203, 0, 113, 9]);
        let refused = auth.login(stranger, None, "long enough pw").await;
        assert!(matches!(refused, Err(FarmError::TooManyAttempts(_))));
        // The owner's browser at that same address, and the owner's known address, are not.
        let by_device = auth
            .login(stranger, Some(&owner.device), "long enough pw")
            .await;
        assert!(by_device.is_ok());
        let by_address = auth.login(other, None, "long enough pw").await;
        assert!(by_address.is_ok());
    }

    #[test]
    fn the_store_keeps_a_hash_of_the_token() {
        let token = new_token();
        let key = session_key(&token);
        assert_eq!(key.len(), 64);
        assert!(!key.contains(&token[TOKEN_PREFIX.len()..]));
        assert_eq!(key, session_key(&token));
    }
}
