//! Which connections the dashboard keeps open. Silent or slow clients must not starve it:
//! each connection has a deadline for its request headers (also the most a kept-alive
//! connection may sit idle), and connections that have not yet sent a request through the
//! gate (with a login, when there is one) are "anonymous": only so many may be open, per
//! client address and overall. A new connection past either cap closes the oldest anonymous
//! one instead of being refused, so a flood of silent connections cannot keep a logged-in
//! user's next page or terminal out: that connection sends its request at once and stops
//! being anonymous. Past a hard cap on all connections (below the open-files limit) new
//! ones are closed at once.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;

/// Longest a client may take to send a request's headers, and longest a kept-alive
/// connection may wait for its next request.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Anonymous connections one client address may hold; a browser opens about six.
pub const ANONYMOUS_PER_ADDRESS: usize = 64;
/// Anonymous connections from all addresses together.
pub const ANONYMOUS_OVERALL: usize = 512;
/// All connections at once, at most (fewer when the open-files limit is lower).
pub const MAX_CONNECTIONS: usize = 8192;
/// Files kept free for everything else: the Docker socket, the store, logs, ttyd legs.
const RESERVED_FILES: u64 = 512;

/// The caps in force.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub per_address: usize,
    pub anonymous: usize,
    pub total: usize,
}

impl Caps {
    /// The caps for this process: the open-files limit is raised as far as the system
    /// allows, and each connection holds a file (two when it is a terminal). Behind a
    /// trusted proxy every connection comes from the proxy's address: the proxy limits its
    /// clients, and only the overall caps apply here.
    pub fn for_this_process(behind_proxy: bool) -> Caps {
        let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
        let by_files = usize::try_from(files.saturating_sub(RESERVED_FILES) / 2).unwrap_or(0);
        let total = MAX_CONNECTIONS.min(by_files).max(64);
        let anonymous = ANONYMOUS_OVERALL.min(total / 2);
        Caps {
            per_address: if behind_proxy {
                anonymous
            } else {
                ANONYMOUS_PER_ADDRESS.min(anonymous)
            },
            anonymous,
            total,
        }
    }
}

/// Every open connection, and the anonymous ones oldest first.
pub struct Gate {
    caps: Caps,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next: u64,
    open: usize,
    /// Anonymous connections by age (ids grow), with how to close each.
    anonymous: BTreeMap<u64, Anonymous>,
    per_address: HashMap<IpAddr, usize>,
}

struct Anonymous {
    address: IpAddr,
    close: oneshot::Sender<()>,
}

/// One admitted connection: counted until dropped.
pub struct Ticket {
    pub connection: Connection,
    closed: oneshot::Receiver<()>,
}

impl Ticket {
    /// Completes when the gate closes this connection to make room; never once it is
    /// trusted.
    pub async fn closed(&mut self) {
        if (&mut self.closed).await.is_err() {
            std::future::pending().await
        }
    }
}

/// What a request knows of its connection, to tell the gate that it came with a login.
#[derive(Clone)]
pub struct Connection {
    gate: Arc<Gate>,
    id: u64,
}

impl Gate {
    pub fn new(caps: Caps) -> Arc<Gate> {
        Arc::new(Gate {
            caps,
            state: Mutex::default(),
        })
    }

    /// Admits a connection from `address`, closing the oldest anonymous ones past the caps;
    /// `None` when every connection the dashboard may hold is open.
    pub fn admit(self: &Arc<Gate>, address: IpAddr) -> Option<Ticket> {
        let mut state = self.lock();
        if state.open >= self.caps.total {
            return None;
        }
        state.open += 1;
        let id = state.next;
        state.next += 1;
        let (close, closed) = oneshot::channel();
        state.anonymous.insert(id, Anonymous { address, close });
        let from_address = {
            let count = state.per_address.entry(address).or_default();
            *count += 1;
            *count
        };
        if from_address > self.caps.per_address {
            let oldest = state
                .anonymous
                .iter()
                .find(|(_, a)| a.address == address)
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                state.close(oldest);
            }
        }
        if state.anonymous.len() > self.caps.anonymous {
            if let Some(oldest) = state.anonymous.keys().next().copied() {
                state.close(oldest);
            }
        }
        Some(Ticket {
            connection: Connection {
                gate: self.clone(),
                id,
            },
            closed,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// No longer anonymous: closed by the gate, or came with a login.
    fn forget(&mut self, id: u64) -> Option<Anonymous> {
        let anonymous = self.anonymous.remove(&id)?;
        if let Some(count) = self.per_address.get_mut(&anonymous.address) {
            *count -= 1;
            if *count == 0 {
                self.per_address.remove(&anonymous.address);
            }
        }
        Some(anonymous)
    }

    fn close(&mut self, id: u64) {
        if let Some(anonymous) = self.forget(id) {
            tracing::debug!(address = %anonymous.address, "closed an anonymous connection to make room");
            anonymous.close.send(()).ok();
        }
    }
}

impl Connection {
    /// A request on this connection passed the gate with a login (or needed none): the
    /// connection is no longer anonymous, and making room never closes it.
    pub fn trusted(&self) {
        self.gate.lock().forget(self.id);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.connection.gate.lock();
        state.forget(self.connection.id);
        state.open -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: Caps = Caps {
        per_address: 3,
        anonymous: 5,
        total: 8,
    };

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    impl Gate {
        /// Connections open now, and how many of them are anonymous.
        fn counts(&self) -> (usize, usize) {
            let state = self.lock();
            (state.open, state.anonymous.len())
        }
    }

    #[test]
    fn past_its_cap_an_address_loses_its_oldest_anonymous_connection() {
        let gate = Gate::new(CAPS);
        let mut tickets: Vec<Ticket> = (0..3).map(|_| gate.admit(ip(1)).unwrap()).collect();
        let mut newest = gate.admit(ip(1)).unwrap();
        assert!(tickets[0].closed.try_recv().is_ok(), "the oldest is closed");
        assert!(tickets[1].closed.try_recv().is_err());
        assert!(newest.closed.try_recv().is_err());
        // Another address is not touched.
        let mut other = gate.admit(ip(2)).unwrap();
        assert!(other.closed.try_recv().is_err());
        tickets.remove(0);
        assert_eq!(gate.counts(), (4, 4));
    }

    #[test]
    fn a_trusted_connection_is_never_closed_to_make_room() {
        let gate = Gate::new(CAPS);
        let mut user = gate.admit(ip(1)).unwrap();
        user.connection.trusted();
        let mut flood: Vec<Ticket> = (0..6).map(|_| gate.admit(ip(1)).unwrap()).collect();
        assert!(user.closed.try_recv().is_err());
        let closed = flood
            .iter_mut()
            .filter_map(|t| t.closed.try_recv().ok())
            .count();
        assert_eq!(closed, 3, "the flood's oldest make room for its newest");
        assert_eq!(gate.counts(), (7, 3));
    }

    #[test]
    fn many_addresses_share_the_overall_anonymous_cap_and_the_total_is_hard() {
        let gate = Gate::new(CAPS);
        let mut tickets: Vec<Ticket> = (0..6).map(|n| gate.admit(ip(n)).unwrap()).collect();
        assert!(tickets[0].closed.try_recv().is_ok());
        assert_eq!(gate.counts(), (6, 5));
        let more: Vec<Ticket> = (6..8).map(|n| gate.admit(ip(n)).unwrap()).collect();
        assert!(gate.admit(ip(9)).is_none(), "8 open: the ninth is refused");
        drop(more);
        assert!(gate.admit(ip(9)).is_some());
    }
}
