//! How far a worker's entrypoint got in preparing its repository, read from the lines it
//! prints (`claude-worker/entrypoint.sh` writes them; these constants are the contract).
//! Logs rather than a file in the container: Docker keeps them across restarts of the
//! dashboard and they need no exec into the worker.

use crate::git_url::redact_credentials;
use crate::store::Setup;

/// First line of every start of the container: what came before belongs to an earlier run.
pub const STARTING: &str = "claude-worker: starting";
pub const CLONING: &str = "claude-worker: cloning into ";
pub const ALREADY_PRESENT: &str = "claude-worker: repository already present";
/// Followed by git's own last word on why.
pub const CLONE_FAILED: &str = "claude-worker: clone failed: ";
pub const TERMINAL_READY: &str = "claude-worker: terminal ready";

/// Longest failure reason kept, in characters; git's messages are one line.
const MAX_REASON_CHARS: usize = 300;

/// Folds log lines, oldest first, into the setup state of the latest run.
#[derive(Debug, Default)]
pub struct SetupReader {
    setup: Option<Setup>,
    ready: bool,
}

impl SetupReader {
    pub fn feed(&mut self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.starts_with(STARTING) {
            *self = SetupReader::default();
        } else if line.starts_with(CLONING) {
            self.setup = Some(Setup::Cloning);
        } else if line.starts_with(ALREADY_PRESENT) {
            self.setup = Some(Setup::Ready);
        } else if let Some(reason) = line.strip_prefix(CLONE_FAILED) {
            self.setup = Some(Setup::Failed {
                reason: clean_reason(reason),
            });
        } else if line.starts_with(TERMINAL_READY) {
            self.ready = true;
            if self.setup == Some(Setup::Cloning) {
                self.setup = Some(Setup::Ready);
            }
        }
    }

    /// `None` until the run has said anything about its repository.
    pub fn setup(&self) -> Option<&Setup> {
        self.setup.as_ref()
    }

    /// The run is past its setup: nothing it prints later changes the outcome.
    pub fn finished(&self) -> bool {
        self.ready
    }
}

/// Longest line kept, in bytes: the markers are short, and a worker that prints without end
/// and without a newline must not fill the dashboard's memory.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// Splits a stream of byte chunks into lines; Docker's log frames need not end at one.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(chunk);
        let Some(last_newline) = self.partial.iter().rposition(|b| *b == b'\n') else {
            // A line longer than any marker: its start is all that could matter.
            self.partial.truncate(MAX_LINE_BYTES);
            return Vec::new();
        };
        let mut rest = self.partial.split_off(last_newline + 1);
        rest.truncate(MAX_LINE_BYTES);
        let complete = std::mem::replace(&mut self.partial, rest);
        String::from_utf8_lossy(&complete)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// git's message as the user may see it: credentials in any URL it quotes removed, control
/// characters dropped, length capped.
fn clean_reason(reason: &str) -> String {
    let words: Vec<String> = reason
        .split(' ')
        .map(|word| {
            let quoted = word.trim_matches(|c| c == '\'' || c == '"');
            if quoted.contains("://") {
                word.replace(quoted, &redact_credentials(quoted))
            } else {
                word.to_owned()
            }
        })
        .collect();
    let text: String = words
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect();
    if text.trim().is_empty() {
        "git clone failed".to_owned()
    } else {
        text.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> SetupReader {
        let mut reader = SetupReader::default();
        for line in lines {
            reader.feed(line);
        }
        reader
    }

    #[test]
    fn a_clone_in_progress_then_done() {
        let reader = read(&[STARTING, "claude-worker: cloning into /shared/repos/w"]);
        assert_eq!(reader.setup(), Some(&Setup::Cloning));
        assert!(!reader.finished());
        let reader = read(&[
            STARTING,
            "claude-worker: cloning into /shared/repos/w",
            "Receiving objects: 100%",
            "claude-worker: terminal ready on port 7681",
        ]);
        assert_eq!(reader.setup(), Some(&Setup::Ready));
        assert!(reader.finished());
    }

    #[test]
    fn a_failed_clone_stays_failed_when_the_terminal_starts() {
        let reader = read(&[
            STARTING,
            "claude-worker: cloning into /shared/repos/w",
            "claude-worker: clone failed: fatal: repository 'https://example.com/nope/' not found",
            "claude-worker: terminal ready on port 7681",
        ]);
        assert_eq!(
            reader.setup(),
            Some(&Setup::Failed {
                reason: "fatal: repository 'https://example.com/nope/' not found".into()
            })
        );
        assert!(reader.finished());
    }

    #[test]
    fn only_the_latest_run_counts() {
        let reader = read(&[
            STARTING,
            "claude-worker: clone failed: fatal: unable to access",
            "claude-worker: terminal ready on port 7681",
            STARTING,
            "claude-worker: cloning into /shared/repos/w",
        ]);
        assert_eq!(reader.setup(), Some(&Setup::Cloning));
        assert!(!reader.finished());
        let reader = read(&[STARTING, "claude-worker: repository already present in /x"]);
        assert_eq!(reader.setup(), Some(&Setup::Ready));
    }

    #[test]
    fn reasons_lose_credentials_and_control_characters() {
        let reader = read(&[
            "claude-worker: clone failed: fatal: unable to access 'https://user:tok@host/r.git/': \x1b[31mdenied\r",
        ]);
        let Some(Setup::Failed { reason }) = reader.setup() else {
            panic!("not failed: {reader:?}");
        };
        assert!(!reason.contains("tok"), "{reason}");
        assert!(reason.contains("'https://***@host/r.git/'"), "{reason}");
        assert!(!reason.contains('\x1b'), "{reason}");
        let reader = read(&["claude-worker: clone failed: "]);
        assert_eq!(
            reader.setup(),
            Some(&Setup::Failed {
                reason: "git clone failed".into()
            })
        );
    }

    #[test]
    fn lines_are_split_across_chunks() {
        let mut splitter = LineSplitter::default();
        assert!(splitter.push(b"claude-wor").is_empty());
        assert_eq!(splitter.push(b"ker: starting\nab"), vec![STARTING]);
        assert_eq!(splitter.push(b"c\r\nd\n"), vec!["abc", "d"]);
    }

    #[test]
    fn an_endless_line_is_cut_not_kept_whole() {
        let mut splitter = LineSplitter::default();
        for _ in 0..100 {
            assert!(splitter.push(&[b'x'; 4096]).is_empty());
        }
        let lines = splitter.push(b"\nclaude-worker: starting\n");
        assert_eq!(lines[0].len(), MAX_LINE_BYTES);
        assert_eq!(lines[1], STARTING);
    }
}
