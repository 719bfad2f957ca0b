//! Login attempts are rate-limited, counted when they start (before the password is checked),
//! so that guesses sent all at once are held back like guesses sent one after the other.
//!
//! Three kinds of client, so that a stranger can slow guessing down without locking the owner
//! out:
//! - a browser that has logged in before (it carries a device cookie) has its own allowance
//!   and nothing else holds it back: not its address's count, not the farm-wide one;
//! - an address that has logged in before has its own allowance, and the farm-wide count
//!   does not hold it back;
//! - any other address has its own allowance, and all of them together share the farm-wide
//!   one, so that guessing from many addresses is slow too.
//!
//! IPv6 clients are counted by their /64 network: one host usually holds all of it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window over which attempts are counted.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Attempts one client (device or address) may start per window, right or wrong; a right
/// password gives its attempt back.
pub const PER_CLIENT: u32 = 5;
/// Attempts all unknown addresses together may start per window.
pub const OVERALL: u32 = 30;
/// How long an address that logged in stays known.
pub const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Clients remembered at most; older windows are dropped first.
const MAX_CLIENTS: usize = 10_000;

/// Who is trying: a device that logged in before (by the hash of its cookie), or an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Client {
    Device(String),
    Address(IpAddr),
}

impl Client {
    /// The address as counted: IPv4 as it is, IPv6 by its /64 network.
    pub fn address(ip: IpAddr) -> Client {
        let counted = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
                }
            },
            v4 => v4,
        };
        Client::Address(counted)
    }
}

#[derive(Clone, Copy)]
struct Attempts {
    since: Instant,
    count: u32,
}

impl Attempts {
    fn current(self, now: Instant) -> Option<Attempts> {
        (now.duration_since(self.since) < WINDOW).then_some(self)
    }

    fn wait(self, now: Instant, limit: u32) -> Option<Duration> {
        let current = self.current(now)?;
        (current.count >= limit).then(|| WINDOW.saturating_sub(now.duration_since(current.since)))
    }

    fn bump(attempts: Option<Attempts>, now: Instant) -> Attempts {
        match attempts.and_then(|a| a.current(now)) {
            Some(a) => Attempts {
                count: a.count + 1,
                ..a
            },
            None => Attempts {
                since: now,
                count: 1,
            },
        }
    }
}

#[derive(Default)]
pub struct LoginLimiter {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    clients: HashMap<Client, Attempts>,
    overall: Option<Attempts>,
    /// Addresses that logged in, and when they last did.
    known: HashMap<Client, Instant>,
}

/// One attempt that was let through: `succeeded` gives it back.
#[derive(Debug)]
pub struct Attempt {
    client: Client,
    shared: bool,
}

impl LoginLimiter {
    /// Counts an attempt by `client` before its password is checked, or says how long it
    /// must wait.
    pub fn begin(&self, client: Client, now: Instant) -> Result<Attempt, Duration> {
        let mut state = self.lock();
        if state.clients.len() >= MAX_CLIENTS {
            state.clients.retain(|_, a| a.current(now).is_some());
        }
        if state.known.len() >= MAX_CLIENTS {
            state
                .known
                .retain(|_, at| now.duration_since(*at) < KNOWN_FOR);
        }
        let own = state.clients.get(&client).copied();
        let shared = match &client {
            Client::Device(_) => false,
            address => state
                .known
                .get(address)
                .is_none_or(|at| now.duration_since(*at) >= KNOWN_FOR),
        };
        let own_wait = own.and_then(|a| a.wait(now, PER_CLIENT));
        let shared_wait = shared
            .then(|| state.overall.and_then(|a| a.wait(now, OVERALL)))
            .flatten();
        if let Some(wait) = own_wait.max(shared_wait) {
            return Err(wait.max(Duration::from_secs(1)));
        }
        state
            .clients
            .insert(client.clone(), Attempts::bump(own, now));
        if shared {
            state.overall = Some(Attempts::bump(state.overall, now));
        }
        Ok(Attempt { client, shared })
    }

    /// The attempt had the right password: it does not count, the client's count starts
    /// over, and an address becomes known.
    pub fn succeeded(&self, attempt: Attempt, now: Instant) {
        let mut state = self.lock();
        state.clients.remove(&attempt.client);
        if attempt.shared {
            if let Some(overall) = &mut state.overall {
                overall.count = overall.count.saturating_sub(1);
            }
        }
        if let Client::Address(_) = attempt.client {
            state.known.insert(attempt.client, now);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update is a whole insert: a panic elsewhere cannot leave half a count.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Client {
        Client::address(IpAddr::from([10, 0, 0, last]))
    }

    fn device(name: &str) -> Client {
        Client::Device(name.to_owned())
    }

    #[test]
    fn attempts_count_when_they_start_so_parallel_guesses_are_held_back() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        // Nothing has been checked yet: the sixth is refused all the same.
        let started: Vec<_> = (0..PER_CLIENT)
            .map(|_| limiter.begin(ip(1), start).unwrap())
            .collect();
        assert_eq!(started.len(), PER_CLIENT as usize);
        let wait = limiter.begin(ip(1), start).unwrap_err();
        assert_eq!(wait, WINDOW);
        // Others are not held back by one client's attempts.
        assert!(limiter.begin(ip(2), start).is_ok());
        let later = start + Duration::from_secs(45);
        assert_eq!(
            limiter.begin(ip(1), later).unwrap_err(),
            Duration::from_secs(15)
        );
        assert!(limiter.begin(ip(1), start + WINDOW).is_ok());
    }

    #[test]
    fn a_right_password_gives_its_attempt_back_and_starts_the_count_over() {
        let limiter = LoginLimiter::default();
        let now = Instant::now();
        for _ in 0..PER_CLIENT - 1 {
            limiter.begin(ip(1), now).unwrap();
        }
        let right = limiter.begin(ip(1), now).unwrap();
        limiter.succeeded(right, now);
        for _ in 0..PER_CLIENT {
            limiter.begin(ip(1), now).unwrap();
        }
        assert!(limiter.begin(ip(1), now).is_err());
    }

    #[test]
    fn many_addresses_together_are_held_back_but_not_a_known_one_or_a_known_device() {
        let limiter = LoginLimiter::default();
        let now = Instant::now();
        // The owner logged in from this address last week, and from a browser.
        let week_ago = now.checked_sub(Duration::from_secs(7 * 24 * 3600)).unwrap();
        let owner = limiter.begin(ip(250), week_ago).unwrap();
        limiter.succeeded(owner, week_ago);
        for n in 0..OVERALL {
            limiter.begin(ip(u8::try_from(n).unwrap()), now).unwrap();
        }
        // A stranger's address waits; the owner's address and browser do not.
        assert!(limiter.begin(ip(200), now).is_err());
        assert!(limiter.begin(ip(250), now).is_ok());
        assert!(limiter.begin(device("owner's phone"), now).is_ok());
        assert!(limiter.begin(ip(200), now + WINDOW).is_ok());
    }

    #[test]
    fn a_known_device_has_its_own_allowance_whatever_its_address_did() {
        let limiter = LoginLimiter::default();
        let now = Instant::now();
        for _ in 0..PER_CLIENT {
            limiter.begin(ip(7), now).unwrap();
        }
        assert!(limiter.begin(ip(7), now).is_err());
        for _ in 0..PER_CLIENT {
            limiter.begin(device("laptop"), now).unwrap();
        }
        // A stolen cookie is not a key to unlimited guessing.
        assert!(limiter.begin(device("laptop"), now).is_err());
    }

    #[test]
    fn an_ipv6_host_is_one_client_across_its_network() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Client::address(a), Client::address(b));
        assert_ne!(Client::address(a), Client::address(other));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(Client::address(mapped), ip(1));
    }
}
