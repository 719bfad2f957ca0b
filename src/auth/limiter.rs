//! Login attempts are rate-limited: a client (by IP address) gets a few wrong passwords per
//! minute, and the whole dashboard a few dozen, so that guessing is slow from one address
//! and from many.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window over which failures are counted.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Wrong passwords one client may send per window.
pub const PER_CLIENT: u32 = 5;
/// Wrong passwords all clients together may send per window.
pub const OVERALL: u32 = 30;
/// Clients remembered at most; older windows are dropped first.
const MAX_CLIENTS: usize = 10_000;

#[derive(Clone, Copy)]
struct Failures {
    since: Instant,
    count: u32,
}

impl Failures {
    fn current(self, now: Instant) -> Option<Failures> {
        (now.duration_since(self.since) < WINDOW).then_some(self)
    }

    fn wait(self, now: Instant, limit: u32) -> Option<Duration> {
        let current = self.current(now)?;
        (current.count >= limit).then(|| WINDOW.saturating_sub(now.duration_since(current.since)))
    }
}

#[derive(Default)]
pub struct LoginLimiter {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    clients: HashMap<IpAddr, Failures>,
    overall: Option<Failures>,
}

impl LoginLimiter {
    /// `Err(wait)` when `client` must wait before trying again.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let state = self.lock();
        let client_wait = state
            .clients
            .get(&client)
            .and_then(|f| f.wait(now, PER_CLIENT));
        let overall_wait = state.overall.and_then(|f| f.wait(now, OVERALL));
        match client_wait.max(overall_wait) {
            Some(wait) => Err(wait.max(Duration::from_secs(1))),
            None => Ok(()),
        }
    }

    pub fn failed(&self, client: IpAddr, now: Instant) {
        let mut state = self.lock();
        if state.clients.len() >= MAX_CLIENTS {
            state.clients.retain(|_, f| f.current(now).is_some());
        }
        let bump = |failures: Option<Failures>| match failures.and_then(|f| f.current(now)) {
            Some(f) => Failures {
                count: f.count + 1,
                ..f
            },
            None => Failures {
                since: now,
                count: 1,
            },
        };
        let client_failures = bump(state.clients.get(&client).copied());
        state.clients.insert(client, client_failures);
        state.overall = Some(bump(state.overall));
    }

    /// A right password clears the client's count (not the overall one).
    pub fn succeeded(&self, client: IpAddr) {
        self.lock().clients.remove(&client);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update is a whole insert: a panic elsewhere cannot leave half a count.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_client_is_held_back_after_a_few_failures_until_the_window_passes() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for _ in 0..PER_CLIENT {
            assert!(limiter.check(ip(1), start).is_ok());
            limiter.failed(ip(1), start);
        }
        let wait = limiter.check(ip(1), start).unwrap_err();
        assert_eq!(wait, WINDOW);
        // Others are not held back by one client's failures.
        assert!(limiter.check(ip(2), start).is_ok());
        let later = start + Duration::from_secs(45);
        assert_eq!(
            limiter.check(ip(1), later).unwrap_err(),
            Duration::from_secs(15)
        );
        assert!(limiter.check(ip(1), start + WINDOW).is_ok());
    }

    #[test]
    fn success_clears_a_clients_count() {
        let limiter = LoginLimiter::default();
        let now = Instant::now();
        for _ in 0..PER_CLIENT - 1 {
            limiter.failed(ip(1), now);
        }
        limiter.succeeded(ip(1));
        limiter.failed(ip(1), now);
        assert!(limiter.check(ip(1), now).is_ok());
    }

    #[test]
    fn many_clients_together_are_held_back_too() {
        let limiter = LoginLimiter::default();
        let now = Instant::now();
        for n in 0..OVERALL {
            limiter.failed(ip(u8::try_from(n).unwrap()), now);
        }
        assert!(limiter.check(ip(200), now).is_err());
        assert!(limiter.check(ip(200), now + WINDOW).is_ok());
    }
}
