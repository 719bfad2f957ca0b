//! Reads what a worker's watcher (`claude-worker/agent-watch.sh`) prints and works out the
//! agent's status from it. The worker writes this text, so it is read defensively: bounded
//! sizes, anything malformed skipped.
//!
//! The lines are `hook <json>`, `usage <json>`, `command <program>`, and `screen <n>`
//! followed by n lines.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::hooks::{state_after, HookEvent, KNOWN_NOTIFICATIONS};
use super::prices::{usage_of, ModelTokens};
use super::screen::{self, ScreenReading};
use super::usage::AgentUsage;
use super::{AgentSource, AgentState};

/// Most screen lines kept; a pane taller than this is read from its bottom.
const MAX_SCREEN_LINES: usize = 300;
/// A `screen` header announcing more lines than this is not believed.
const MAX_ANNOUNCED_LINES: usize = 2000;
/// Longest screen line kept, in bytes.
const MAX_SCREEN_LINE_BYTES: usize = 1024;
/// How long the screen must show an idle prompt after the last hook said "working" (or an
/// input box after it said "needs input") before the screen is believed. Claude Code fires no
/// hook when the user interrupts it (Esc), and its notification of a dialog may come after
/// the user answered it; the delay keeps the moment between a prompt and its spinner from
/// reading as idle.
pub const INTERRUPT_AFTER: Duration = Duration::from_secs(3);
/// Most models a usage line may name (a worker uses two or three).
const MAX_MODELS: usize = 64;

/// What the watcher has told so far.
#[derive(Debug, Default)]
pub struct AgentFeed {
    /// The pane's foreground program; `None` until the watcher said.
    command: Option<String>,
    /// The state the last meaningful hook event left, and when it arrived.
    hook: Option<((AgentState, Option<String>), Instant)>,
    /// The last screen reading, and since when the screen has read its state.
    screen: Option<ScreenReading>,
    screen_since: Option<Instant>,
    /// A screen being received: lines still to come, lines so far.
    receiving: Option<(usize, Vec<String>)>,
    /// What the agent's conversations have used, once the worker has summed them.
    usage: Option<AgentUsage>,
}

impl AgentFeed {
    /// Takes one line of the watcher's output, received at `now`.
    pub fn push(&mut self, line: &str, now: Instant) {
        if let Some((left, lines)) = &mut self.receiving {
            if lines.len() == MAX_SCREEN_LINES {
                lines.remove(0);
            }
            lines.push(cut(line, MAX_SCREEN_LINE_BYTES).to_owned());
            *left -= 1;
            if *left == 0 {
                let lines = std::mem::take(lines);
                self.receiving = None;
                self.take_screen(&lines.join("\n"), now);
            }
            return;
        }
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        match kind {
            "hook" => self.take_hook(rest, now),
            "usage" => self.take_usage(rest),
            "command" => self.take_command(rest.trim()),
            "screen" => match rest.trim().parse::<usize>() {
                Ok(0) => self.take_screen("", now),
                Ok(n) if n <= MAX_ANNOUNCED_LINES => self.receiving = Some((n, Vec::new())),
                _ => {}
            },
            _ => {}
        }
    }

    fn take_hook(&mut self, json: &str, now: Instant) {
        // An empty file (no event yet, or a new run) says nothing.
        let Ok(event) = serde_json::from_str::<HookEvent>(json) else {
            return;
        };
        if let Some(kind) = event
            .notification_type
            .as_deref()
            .filter(|t| !KNOWN_NOTIFICATIONS.contains(t))
        {
            tracing::info!(
                notification_type = kind,
                message = event.message.as_deref().unwrap_or_default(),
                "Claude Code sent a notification type the farm does not know: read by its message"
            );
        }
        if let Some((state, line)) = state_after(&event) {
            let was = self.hook.as_ref().map(|((state, _), _)| *state);
            // Claude Code says "waiting for your input" a minute after any turn's end, a
            // failed one's too: the limit or the error still holds.
            let idle_notice = event.event == "Notification" && state == AgentState::Idle;
            if idle_notice && matches!(was, Some(AgentState::Limited | AgentState::Error)) {
                return;
            }
            // An event that repeats the state without a line of its own keeps the last one,
            // and so does a notification of the same dialog (Claude Code 2.1.332 follows a
            // question with "Claude needs your permission"): the first says what is asked.
            let line = match &self.hook {
                Some(((same, kept @ Some(_)), _))
                    if *same == state
                        && (line.is_none()
                            || (state == AgentState::NeedsInput
                                && event.event == "Notification")) =>
                {
                    kept.clone()
                }
                _ => line,
            };
            self.hook = Some(((state, line), now));
        }
    }

    fn take_usage(&mut self, json: &str) {
        // An empty or unreadable file (nothing summed yet) keeps what was known.
        let Ok(models) = serde_json::from_str::<BTreeMap<String, ModelTokens>>(json) else {
            return;
        };
        if models.len() <= MAX_MODELS {
            self.usage = Some(usage_of(&models));
        }
    }

    /// What the agent's conversations have used, once known.
    pub fn usage(&self) -> Option<AgentUsage> {
        self.usage
    }

    fn take_command(&mut self, command: &str) {
        let was_agent = self.command.as_deref().is_some_and(is_agent);
        if was_agent && !is_agent(command) {
            // The agent ended: what its hooks said is over.
            self.hook = None;
        }
        self.command = Some(command.to_owned());
    }

    fn take_screen(&mut self, text: &str, now: Instant) {
        let Some(reading) = screen::read(text) else {
            // A screen this reader does not know (starting, a full-screen view) keeps the
            // last reading, but not its age.
            self.screen_since = None;
            return;
        };
        let same = self
            .screen
            .as_ref()
            .is_some_and(|r| r.state == reading.state);
        if !same || self.screen_since.is_none() {
            self.screen_since = Some(now);
        }
        self.screen = Some(reading);
    }

    /// The status as of `now`: `None` until the watcher has said enough to tell.
    pub fn status(&self, now: Instant) -> Option<(AgentState, Option<String>, AgentSource)> {
        let command = self.command.as_deref()?;
        if !is_agent(command) {
            return Some((AgentState::NoAgent, None, AgentSource::Screen));
        }
        let from_screen = || {
            self.screen
                .clone()
                .map(|r| (r.state, r.line, AgentSource::Screen))
        };
        // A dialog on screen waits for the user whatever the hooks said: Claude Code's own
        // notification of it comes seconds later (2.1.332: about 6 s), or not at all.
        if let Some(reading) = self
            .screen
            .as_ref()
            .filter(|r| r.state == AgentState::NeedsInput)
        {
            return Some((reading.state, reading.line.clone(), AgentSource::Screen));
        }
        match &self.hook {
            // Claude Code fires no hook when the user interrupts it (Esc), nor for every way
            // a turn ends: the screen showing the turn over is believed after a while.
            Some(((AgentState::Working, _), heard)) if self.turn_over_held(*heard, now) => {
                from_screen()
            }
            // A late notification of a dialog the user has already answered: the screen has
            // shown the input box since.
            Some(((AgentState::NeedsInput, _), heard))
                if self.turn_over_held(*heard, now)
                    || self.screen_held(AgentState::Working, *heard, now) =>
            {
                from_screen()
            }
            // A limit or an error that is over: Claude Code went on by itself at the reset
            // (working), or the user signed in or cleared the screen (idle).
            Some(((AgentState::Limited | AgentState::Error, _), heard))
                if self.screen_held(AgentState::Idle, *heard, now)
                    || self.screen_held(AgentState::Working, *heard, now) =>
            {
                from_screen()
            }
            // The session ended, yet Claude Code runs: a new one, not yet heard from.
            Some(((AgentState::NoAgent, _), _)) => from_screen(),
            Some(((state, line), _)) => Some((*state, line.clone(), AgentSource::Hook)),
            None => from_screen(),
        }
    }

    /// The screen has shown the turn over (idle, or stopped on a limit or an error) for
    /// [`INTERRUPT_AFTER`] since the hook event `heard`.
    fn turn_over_held(&self, heard: Instant, now: Instant) -> bool {
        [AgentState::Idle, AgentState::Limited, AgentState::Error]
            .into_iter()
            .any(|state| self.screen_held(state, heard, now))
    }

    /// The screen has read `state` for [`INTERRUPT_AFTER`] since the hook event `heard`.
    fn screen_held(&self, state: AgentState, heard: Instant, now: Instant) -> bool {
        self.screen.as_ref().is_some_and(|r| r.state == state)
            && self.screen_since.is_some_and(|since| {
                now.saturating_duration_since(since.max(heard)) >= INTERRUPT_AFTER
            })
    }
}

/// Whether the pane's foreground program is Claude Code (its process calls itself `claude`).
fn is_agent(command: &str) -> bool {
    command == "claude" || command.starts_with("claude-") || command.starts_with("claude.")
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE_SCREEN: &str = include_str!("screens/cc-2.1.332-idle-after-answer.txt");
    const WORKING_SCREEN: &str = include_str!("screens/cc-2.1.332-working.txt");

    fn feed(lines: &[&str], now: Instant) -> AgentFeed {
        let mut feed = AgentFeed::default();
        for line in lines {
            feed.push(line, now);
        }
        feed
    }

    fn push_screen(feed: &mut AgentFeed, screen: &str, now: Instant) {
        let lines: Vec<&str> = screen.lines().collect();
        feed.push(&format!("screen {}", lines.len()), now);
        for line in lines {
            feed.push(line, now);
        }
    }

    #[test]
    fn nothing_is_said_before_the_pane_is_known() {
        let now = Instant::now();
        assert_eq!(feed(&[r#"hook {"event":"Stop"}"#], now).status(now), None);
        let shell = feed(&["command bash"], now);
        assert_eq!(shell.status(now).unwrap().0, AgentState::NoAgent);
        // No tmux session yet: no agent either.
        assert_eq!(
            feed(&["command "], now).status(now).unwrap().0,
            AgentState::NoAgent
        );
    }

    #[test]
    fn hooks_win_over_the_screen_while_the_agent_runs() {
        let now = Instant::now();
        let mut f = feed(&["command claude"], now);
        push_screen(&mut f, IDLE_SCREEN, now);
        assert_eq!(f.status(now).unwrap().2, AgentSource::Screen);
        f.push(
            r#"hook {"event":"Notification","notification_type":"permission_prompt","message":"Claude needs your permission to use Bash"}"#,
            now,
        );
        assert_eq!(
            f.status(now),
            Some((
                AgentState::NeedsInput,
                Some("Claude needs your permission to use Bash".into()),
                AgentSource::Hook
            ))
        );
        // Events that say nothing of the state leave it.
        f.push(r#"hook {"event":"SubagentStart"}"#, now);
        f.push("hook not json at all", now);
        assert_eq!(f.status(now).unwrap().0, AgentState::NeedsInput);
    }

    #[test]
    fn a_dialog_on_screen_wins_at_once_whatever_the_hooks_said() {
        // Claude Code 2.1.332: PreToolUse fires, then the auto-mode notice is drawn; its
        // notification comes about 6 s later.
        let now = Instant::now();
        let mut f = feed(&["command claude"], now);
        f.push(r#"hook {"event":"PreToolUse","tool_name":"Bash"}"#, now);
        assert_eq!(f.status(now).unwrap().0, AgentState::Working);
        push_screen(
            &mut f,
            include_str!("screens/cc-2.1.332-auto-mode-dialog.txt"),
            now,
        );
        assert_eq!(
            f.status(now),
            Some((
                AgentState::NeedsInput,
                Some("Auto mode can't check actions in this session".into()),
                AgentSource::Screen
            ))
        );
        // Then the permission prompt, still before any hook says so.
        push_screen(
            &mut f,
            include_str!("screens/cc-2.1.332-permission-prompt.txt"),
            now,
        );
        assert_eq!(f.status(now).unwrap().0, AgentState::NeedsInput);
    }

    #[test]
    fn a_late_notification_of_an_answered_dialog_gives_way_to_the_screen() {
        let now = Instant::now();
        let mut f = feed(&["command claude"], now);
        push_screen(&mut f, include_str!("screens/cc-2.1.332-working.txt"), now);
        f.push(
            r#"hook {"event":"Notification","notification_type":"permission_prompt","message":"Claude needs your permission"}"#,
            now,
        );
        // Believed at first: the screen may not have caught up.
        assert_eq!(f.status(now).unwrap().0, AgentState::NeedsInput);
        let later = now + INTERRUPT_AFTER / 2;
        push_screen(
            &mut f,
            include_str!("screens/cc-2.1.332-working.txt"),
            later,
        );
        assert_eq!(f.status(later).unwrap().0, AgentState::NeedsInput);
        let after = now + INTERRUPT_AFTER;
        push_screen(
            &mut f,
            include_str!("screens/cc-2.1.332-working.txt"),
            after,
        );
        assert_eq!(
            f.status(after),
            Some((AgentState::Working, None, AgentSource::Screen))
        );
    }

    #[test]
    fn the_agent_ending_ends_what_its_hooks_said() {
        let now = Instant::now();
        let mut f = feed(
            &["command claude", r#"hook {"event":"UserPromptSubmit"}"#],
            now,
        );
        assert_eq!(f.status(now).unwrap().0, AgentState::Working);
        f.push("command bash", now);
        assert_eq!(f.status(now).unwrap().0, AgentState::NoAgent);
        // Started again: until a hook fires, the screen tells.
        f.push("command claude", now);
        push_screen(&mut f, WORKING_SCREEN, now);
        assert_eq!(
            f.status(now).map(|s| (s.0, s.2)),
            Some((AgentState::Working, AgentSource::Screen))
        );
    }

    #[test]
    fn an_interrupt_without_a_hook_is_read_from_the_screen_after_a_while() {
        let start = Instant::now();
        let mut f = feed(
            &[
                "command claude",
                r#"hook {"event":"PreToolUse","tool_name":"Bash"}"#,
            ],
            start,
        );
        push_screen(&mut f, IDLE_SCREEN, start);
        // At first the idle prompt may be the moment before the spinner: still working.
        assert_eq!(f.status(start).unwrap().0, AgentState::Working);
        let later = start + INTERRUPT_AFTER;
        assert_eq!(
            f.status(later).map(|s| (s.0, s.2)),
            Some((AgentState::Idle, AgentSource::Screen))
        );
        // A hook after that is believed again.
        f.push(r#"hook {"event":"UserPromptSubmit"}"#, later);
        assert_eq!(f.status(later).unwrap().0, AgentState::Working);
    }

    #[test]
    fn a_session_ended_while_the_agent_runs_is_a_new_session() {
        let now = Instant::now();
        let mut f = feed(&["command claude", r#"hook {"event":"SessionEnd"}"#], now);
        // Quit and started again between two looks at the pane: the screen tells.
        push_screen(&mut f, WORKING_SCREEN, now);
        assert_eq!(
            f.status(now).map(|s| (s.0, s.2)),
            Some((AgentState::Working, AgentSource::Screen))
        );
    }

    #[test]
    fn hostile_output_is_bounded_and_skipped() {
        let now = Instant::now();
        let mut f = AgentFeed::default();
        f.push("screen 99999999999999999999", now);
        f.push("screen -1", now);
        f.push(&"x".repeat(100_000), now);
        f.push("command claude", now);
        f.push(&format!("screen {MAX_ANNOUNCED_LINES}"), now);
        for _ in 0..MAX_ANNOUNCED_LINES {
            f.push(&"é".repeat(2000), now);
        }
        assert!(f.receiving.is_none());
        // Nothing recognisable on that screen: no status yet.
        assert_eq!(f.status(now), None);
        assert_eq!(cut("éé", 3), "é");
        // After a screen of any size the protocol is back in step.
        f.push(r#"hook {"event":"Stop"}"#, now);
        assert_eq!(f.status(now).unwrap().0, AgentState::Idle);
    }

    #[test]
    fn usage_is_read_and_priced() {
        let now = Instant::now();
        let mut f = feed(&["command claude"], now);
        assert_eq!(f.usage(), None);
        f.push(
            r#"usage {"claude-opus-5-5":{"input":120,"output":12,"cache_read":0,"cache_write_5m":0,"cache_write_1h":0}}"#,
            now,
        );
        let usage = f.usage().unwrap();
        assert_eq!((usage.input_tokens, usage.output_tokens), (120, 12));
        assert!(usage.cost_usd.is_some_and(|c| c > 0.0));
        // An empty or broken file keeps what was known.
        f.push("usage ", now);
        f.push("usage {\"claude-opus-5-5\": \"many\"}", now);
        assert_eq!(f.usage(), Some(usage));
    }

    #[test]
    fn a_question_keeps_its_words_through_the_notification_after_it() {
        // Claude Code 2.1.332 asks with AskUserQuestion, then fires PermissionRequest and a
        // `permission_prompt` notification ("Claude needs your permission") for it.
        let now = Instant::now();
        let mut f = feed(&["command claude"], now);
        for hook in [
            r#"hook {"event":"PreToolUse","tool_name":"AskUserQuestion","question":"Which colour should the button be?"}"#,
            r#"hook {"event":"PermissionRequest","tool_name":"AskUserQuestion","question":"Which colour should the button be?"}"#,
            r#"hook {"event":"Notification","notification_type":"permission_prompt","message":"Claude needs your permission"}"#,
        ] {
            f.push(hook, now);
            assert_eq!(
                f.status(now),
                Some((
                    AgentState::NeedsInput,
                    Some("Which colour should the button be?".into()),
                    AgentSource::Hook
                ))
            );
        }
    }

    #[test]
    fn a_limit_and_an_error_hold_at_the_prompt() {
        let now = Instant::now();
        let later = now + INTERRUPT_AFTER * 2;
        let mut f = feed(&["command claude"], now);
        push_screen(
            &mut f,
            include_str!("screens/cc-2.1.332-usage-limit-cancelled.txt"),
            now,
        );
        f.push(
            r#"hook {"event":"StopFailure","error":"rate_limit","last":"You've hit your 5-hour limit · resets 8:33am (UTC)"}"#,
            now,
        );
        let (state, line, _) = f.status(later).unwrap();
        assert_eq!(state, AgentState::Limited);
        assert_eq!(
            line.as_deref(),
            Some("You've hit your 5-hour limit · resets 8:33am (UTC)")
        );
        push_screen(
            &mut f,
            include_str!("screens/cc-2.1.332-api-error.txt"),
            now,
        );
        f.push(
            r#"hook {"event":"StopFailure","error":"unknown","last":"API Error: 400 scripted bad request"}"#,
            now,
        );
        assert_eq!(f.status(later).unwrap().0, AgentState::Error);
        // A minute later Claude Code says it waits for input: the error still holds.
        f.push(
            r#"hook {"event":"Notification","notification_type":"idle_prompt","message":"Claude is waiting for your input"}"#,
            now,
        );
        assert_eq!(f.status(later).unwrap().0, AgentState::Error);
        // The next prompt is a new turn.
        f.push(r#"hook {"event":"UserPromptSubmit"}"#, later);
        assert_eq!(f.status(later).unwrap().0, AgentState::Working);
    }

    #[test]
    fn a_turn_that_ends_on_screen_without_its_hook_is_believed_after_a_while() {
        // "Not logged in": Claude Code's StopFailure may not come (an older release, a hook
        // that timed out); the screen shows the error.
        let now = Instant::now();
        let mut f = feed(&["command claude"], now);
        f.push(r#"hook {"event":"UserPromptSubmit"}"#, now);
        push_screen(
            &mut f,
            include_str!("screens/cc-2.1.332-not-logged-in.txt"),
            now,
        );
        assert_eq!(f.status(now).unwrap().0, AgentState::Working);
        let (state, line, source) = f.status(now + INTERRUPT_AFTER).unwrap();
        assert_eq!(state, AgentState::Error);
        assert_eq!(line.as_deref(), Some("Not logged in · Please run /login"));
        assert_eq!(source, AgentSource::Screen);
    }

    #[test]
    fn a_limit_gives_way_when_claude_code_goes_on_by_itself() {
        let now = Instant::now();
        let mut f = feed(&["command claude"], now);
        f.push(
            r#"hook {"event":"StopFailure","error":"rate_limit","last":"You've hit your 5-hour limit · resets 8:33am (UTC)"}"#,
            now,
        );
        push_screen(&mut f, WORKING_SCREEN, now);
        assert_eq!(f.status(now).unwrap().0, AgentState::Limited);
        assert_eq!(
            f.status(now + INTERRUPT_AFTER).unwrap().0,
            AgentState::Working
        );
    }

    #[test]
    fn a_second_dialog_says_its_own_words() {
        let now = Instant::now();
        let mut f = feed(&["command claude"], now);
        f.push(
            r#"hook {"event":"Notification","notification_type":"agent_needs_input","message":"Auto mode can't check actions in this session"}"#,
            now,
        );
        f.push(
            r#"hook {"event":"PermissionRequest","tool_name":"Bash"}"#,
            now,
        );
        assert_eq!(
            f.status(now).unwrap().1.as_deref(),
            Some("Claude wants to use Bash")
        );
    }
}
