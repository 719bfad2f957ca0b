//! The fallback reader: what Claude Code is doing, read off the plain text of its tmux pane
//! (`tmux capture-pane -p`: no colours, the visible screen only). Hooks are the main signal;
//! this is believed only while they are silent.
//!
//! Claude Code prints its conversation top-down and redraws a *live area* in place under it:
//! the spinner line, then the input box and its footer, or, in the input box's place, a
//! dialog. Everything above is scrollback and may hold any text at all (tool output, files,
//! Claude's answers quoting the UI), so every rule is anchored to the bottom of the screen
//! (its last non-blank row: the pane is often taller than what Claude Code drew) and to the
//! structure Claude Code draws, never to a phrase alone. In the order they are tried:
//!
//! 1. **Needs input**: the last row with the selection cursor on an option, numbered
//!    (`❯ 1. Yes`) or, since Claude Code 2.1, plain (`❯ No`), when nothing of the
//!    conversation or of an input box comes after it
//!    (at most 16 non-blank rows, `MAX_DIALOG_TAIL`: the other options, the dialog's
//!    footer, its box's bottom edge), and the options have a question right above them (a
//!    line ending in `?`, or `Do you want …`, `Would you like …`) or a dialog footer under
//!    them (`Esc to cancel`, `Enter to select`, `Tab to amend`). A cursor row inside the
//!    input box is the user's typing, not a dialog. Also a dialog without options (Claude
//!    Code 2.1's auto-mode notice) when no input box is at the bottom and the last row is its
//!    `Esc to cancel` footer.
//! 2. **Working**: with an input box at the bottom, `esc to interrupt` on the spinner line
//!    (the first row at column 0 above the box; blank and indented rows such as its todo list
//!    are skipped) or in the footer under the box, where newer versions put it.
//! 3. **Idle**: an input box at the bottom and neither of the above. The box is a prompt row
//!    (`>` or `❯`) right under a `────` rule, closed by another rule, or the older
//!    `╭─╮ │ > │ ╰─╯` box; at most 10 non-blank rows (`MAX_FOOTER_ROWS`) may follow it.
//! 4. Otherwise `None`: still starting, a full-screen view (transcript, pickers), or a layout
//!    this reader does not know.

use super::{one_line, AgentState};

/// What the screen shows the agent doing, with the line that asks when it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenReading {
    pub state: AgentState,
    pub line: Option<String>,
}

/// Rows looked at, counted up from the last non-blank one. A pane is 24-60 rows; anything
/// above this is scrollback whatever the screen.
const MAX_ROWS: usize = 200;
/// Characters of a row looked at. Every marker sits at a row's start, and a bound keeps a
/// hostile 100k-character line cheap.
const MAX_COLS: usize = 512;
/// Non-blank rows that may follow the input box: mode line, `? for shortcuts`, a custom
/// status line, the shortcut help. More, and the box is not the bottom of the screen.
const MAX_FOOTER_ROWS: usize = 10;
/// Rows the input box may span between its edges (a long multi-line prompt).
const MAX_INPUT_ROWS: usize = 20;
/// Rows above the input box searched for the spinner line (its todo list sits between).
const MAX_SPINNER_DISTANCE: usize = 20;
/// Non-blank rows that may follow a dialog's cursor row: the other options and their
/// descriptions, a separator, the footer. A question menu has up to about a dozen.
const MAX_DIALOG_TAIL: usize = 16;
/// Rows above a dialog's question searched for the dialog's top edge, for its title.
const MAX_DIALOG_HEIGHT: usize = 60;

/// What Claude Code shows while a turn runs, and only then.
const INTERRUPT_HINT: &str = "esc to interrupt";
/// Footers of Claude Code's dialogs (permission, question, plan). Lowercase.
const DIALOG_FOOTERS: [&str; 3] = ["esc to cancel", "enter to select", "tab to amend"];
/// The footer of a dialog that waits for the user's key, with or without options. Lowercase.
const WAITING_FOOTER: &str = "esc to cancel";
/// How Claude Code's questions begin (`Do you want to proceed?`, `Would you like to
/// proceed?`, `Do you trust the files in this folder?`, `What do you want to do?`).
/// Lowercase.
const QUESTION_STARTS: [&str; 4] = [
    "what do you want",
    "do you want",
    "would you like",
    "do you trust",
];
/// Dialog titles whose next row says exactly what is asked (the command, the MCP tool, the
/// URL): the reading's line is then the title and that row. Lowercase.
const TOOL_TITLES: [&str; 4] = ["bash command", "tool use", "fetch", "web search"];
/// Frames of Claude Code's spinner (`✻ Thinking…`).
const SPINNER_GLYPHS: [char; 8] = ['·', '✢', '✳', '✶', '✻', '✽', '*', '∗'];
/// What starts a message in the conversation: Claude's answer or a tool call.
const MESSAGE_MARKERS: [char; 2] = ['⏺', '●'];
/// What starts a result under a message (a tool's output, Claude Code's report of an error).
const RESULT_MARKER: char = '⎿';
/// What starts a warning in the footer (`⚠ Usage limit reached · limit resets 8:33am`).
const WARNING_MARKER: char = '⚠';
/// Rows above the input box searched for the last turn's end.
const MAX_TURN_ROWS: usize = 40;

/// Reads the visible pane text. Called only while a Claude Code process is the pane's
/// foreground program (so never returns NoAgent). Returns None when the screen shows
/// nothing it recognises (e.g. Claude Code still starting, or a full-screen view): the
/// caller then keeps the last known state.
pub fn read(screen: &str) -> Option<ScreenReading> {
    let rows = rows(screen);
    let input = input_box(&rows);
    // A dialog first: while one is up, an `esc to interrupt` further up is stale.
    if let Some(line) = dialog(&rows, input) {
        return Some(ScreenReading {
            state: AgentState::NeedsInput,
            line,
        });
    }
    if input.is_none() {
        if let Some(line) = footer_dialog(&rows) {
            return Some(ScreenReading {
                state: AgentState::NeedsInput,
                line,
            });
        }
    }
    let input = input?;
    if working(&rows, input) {
        return Some(ScreenReading {
            state: AgentState::Working,
            line: None,
        });
    }
    let (state, line) = turn_failure(&rows, input).unwrap_or((AgentState::Idle, None));
    Some(ScreenReading { state, line })
}

/// One row of the screen.
struct Row<'a> {
    /// Trimmed, with a `│ … │` frame taken off.
    text: &'a str,
    /// Leading whitespace, in characters (inside the frame, if framed).
    indent: usize,
    /// Drawn inside a `│ … │` frame (Claude Code's older boxed style).
    framed: bool,
}

impl<'a> Row<'a> {
    fn new(line: &'a str) -> Self {
        let line = match line.char_indices().nth(MAX_COLS) {
            Some((end, _)) => &line[..end],
            None => line,
        };
        let line = line.trim_end();
        let (inner, framed) = match line.trim_start().strip_prefix('│') {
            Some(rest) => (rest.strip_suffix('│').unwrap_or(rest), true),
            None => (line, false),
        };
        Row {
            text: inner.trim(),
            indent: inner.chars().take_while(|c| c.is_whitespace()).count(),
            framed,
        }
    }

    fn is_blank(&self) -> bool {
        self.text.is_empty()
    }

    /// A `────` rule across the screen, maybe with a label on its right.
    fn is_rule(&self) -> bool {
        !self.framed && self.text.starts_with("───")
    }

    fn is_box_top(&self) -> bool {
        self.text.starts_with('╭') && self.text.ends_with('╮')
    }

    fn is_box_bottom(&self) -> bool {
        self.text.starts_with('╰') && self.text.ends_with('╯')
    }

    /// The input's prompt: `>` or `❯` (`!` in bash mode), then the typing or nothing.
    fn is_prompt(&self) -> bool {
        let mut chars = self.text.chars();
        matches!(chars.next(), Some('>' | '❯' | '!'))
            && chars.next().is_none_or(char::is_whitespace)
    }

    /// Starts at column 0, as the conversation's messages and the spinner line do.
    fn at_margin(&self) -> bool {
        !self.framed && self.indent == 0 && !self.is_blank()
    }

    /// `✻ Thinking… (…)`, `✻ Worked for 12s`: a spinner frame, a space, words.
    fn is_spinner(&self) -> bool {
        let mut chars = self.text.chars();
        self.at_margin()
            && chars.next().is_some_and(|c| SPINNER_GLYPHS.contains(&c))
            && chars.next().is_some_and(char::is_whitespace)
    }

    fn is_message(&self) -> bool {
        self.at_margin() && self.text.starts_with(MESSAGE_MARKERS)
    }

    /// `  ⎿  …`: what a message's tool or command gave back, or Claude Code's report under the
    /// user's prompt.
    fn is_result(&self) -> bool {
        !self.framed && self.text.starts_with(RESULT_MARKER)
    }

    /// The row's words without the mark it starts with (a message's, a result's, a warning's).
    fn said(&self) -> &'a str {
        self.text
            .trim_start_matches(MESSAGE_MARKERS)
            .trim_start_matches([RESULT_MARKER, WARNING_MARKER])
            .trim_start()
    }

    /// An option of a dialog's list: numbered, `❯ 1. Yes` or `2. No, and tell Claude …`, or
    /// (Claude Code 2.1 and later) plain, `❯ No` / `Yes`, of which only the one under the
    /// cursor can be told from text. Says whether the cursor is on it, and the column its
    /// list is indented past: a numbered list's numbers, or a plain list's cursor.
    fn option(&self) -> Option<(bool, usize)> {
        let (cursor, rest) = match self.text.strip_prefix('❯') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, self.text),
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let numbered = (1..=2).contains(&digits)
            && rest[digits..].strip_prefix('.').is_some_and(|label| {
                label.starts_with(char::is_whitespace) && !label.trim().is_empty()
            });
        if numbered {
            let column = self.indent + self.text.chars().count() - rest.chars().count();
            return Some((cursor, column));
        }
        let spaced = self
            .text
            .strip_prefix('❯')
            .is_some_and(|after| after.starts_with(char::is_whitespace));
        let plain = spaced && rest.starts_with(char::is_alphabetic);
        plain.then_some((true, self.indent))
    }

    fn has_cursor(&self) -> bool {
        self.option().is_some_and(|(cursor, _)| cursor)
    }
}

/// The screen's rows, from at most `MAX_ROWS` above its last non-blank row to that row.
/// Walks from the end, so only the bottom of a huge input is ever read.
fn rows(screen: &str) -> Vec<Row<'_>> {
    let mut rows: Vec<Row> = screen
        .lines()
        .rev()
        .map(Row::new)
        .skip_while(Row::is_blank)
        .take(MAX_ROWS)
        .collect();
    rows.reverse();
    rows
}

/// Where the input box is: its top and bottom edges.
#[derive(Debug, Clone, Copy)]
struct InputBox {
    top: usize,
    bottom: usize,
}

/// The input box at the bottom of the screen, if one is drawn there.
fn input_box(rows: &[Row]) -> Option<InputBox> {
    let mut below = 0;
    for bottom in (1..rows.len()).rev() {
        if below > MAX_FOOTER_ROWS {
            return None;
        }
        let row = &rows[bottom];
        let boxed = row.is_box_bottom();
        if row.is_rule() || boxed {
            if let Some(top) = box_top(rows, bottom, boxed) {
                return Some(InputBox { top, bottom });
            }
        }
        if !row.is_blank() {
            below += 1;
        }
    }
    None
}

/// The top edge of an input box closed at `bottom`: the nearest rule (or `╭─╮` when
/// `boxed`) above it, with a prompt row right under it.
fn box_top(rows: &[Row], bottom: usize, boxed: bool) -> Option<usize> {
    let lowest = bottom.saturating_sub(MAX_INPUT_ROWS + 1);
    let top = (lowest..bottom).rev().find(|&i| {
        if boxed {
            rows[i].is_box_top()
        } else {
            rows[i].is_rule()
        }
    })?;
    let prompt = &rows[top + 1];
    (top + 1 < bottom && prompt.framed == boxed && prompt.is_prompt()).then_some(top)
}

/// A turn is running: its `esc to interrupt` is in the footer, or on the spinner line, the
/// first row at the margin above the box. Above that is scrollback, where a spinner line
/// left behind (a resize, a quote) is stale whatever it says.
fn working(rows: &[Row], input: InputBox) -> bool {
    if rows[input.bottom + 1..]
        .iter()
        .any(|r| contains_ci(r.text, INTERRUPT_HINT))
    {
        return true;
    }
    let lowest = input.top.saturating_sub(MAX_SPINNER_DISTANCE);
    let Some(spinner) = (lowest..input.top).rev().find(|&i| rows[i].at_margin()) else {
        return false;
    };
    let row = &rows[spinner];
    if !row.is_spinner() {
        return false;
    }
    if contains_ci(row.text, INTERRUPT_HINT) {
        return true;
    }
    // A narrow pane wraps the spinner line's hint onto the next row.
    rows.get(spinner + 1)
        .filter(|next| spinner + 1 < input.top && !next.is_blank() && !next.is_result())
        .is_some_and(|next| contains_ci(&format!("{} {}", row.text, next.text), INTERRUPT_HINT))
}

/// How the last turn ended, when it failed: a usage limit (the line says when it resets) or
/// an error. The turn is what Claude Code printed since the user's last prompt (`❯ …` at the
/// margin) above the input box, and its end is its last message or result row (`●`, `⎿`):
/// Claude Code's own report, in its own words with their `·` separators, which an answer or
/// a tool's output does not mimic by chance. A limit also shows in the footer under the box
/// while Claude Code waits to go on by itself at the reset.
fn turn_failure(rows: &[Row], input: InputBox) -> Option<(AgentState, Option<String>)> {
    let lowest = input.top.saturating_sub(MAX_TURN_ROWS);
    let start = (lowest..input.top)
        .rev()
        .find(|&i| rows[i].at_margin() && rows[i].is_prompt())
        .map_or(lowest, |i| i + 1);
    let reports: Vec<&str> = rows[start..input.top]
        .iter()
        .filter(|r| r.is_message() || r.is_result())
        .map(|r| r.said())
        .collect();
    let waits = rows[input.bottom + 1..]
        .iter()
        .map(|r| r.said())
        .find(|t| starts_with_ci(t, "usage limit reached · "));
    let last = reports.last().copied();
    if waits.is_some() || last.is_some_and(says_limit) {
        let resets = reports
            .iter()
            .rev()
            .find(|t| says_limit(t) && contains_ci(t, " · resets"))
            .copied();
        let line = resets.or(waits).or(last)?;
        return Some((AgentState::Limited, one_line(line)));
    }
    let error = last.filter(|t| says_error(t))?;
    // An API key's 429: `API Error: Request rejected (429) · usage limit`.
    let state = if contains_ci(error, "429") {
        AgentState::Limited
    } else {
        AgentState::Error
    };
    Some((state, one_line(error)))
}

/// Claude Code's report of a limit: `You've hit your 5-hour limit · resets 8:33am (UTC)`,
/// `Usage limit reached · set to continue automatically at …`, and after the user said no
/// to that, `Automatic continue cancelled · /rate-limit-options to wait again`.
fn says_limit(text: &str) -> bool {
    (starts_with_ci(text, "you've hit your ") && contains_ci(text, " limit · "))
        || starts_with_ci(text, "usage limit reached · ")
        || starts_with_ci(text, "automatic continue cancelled · ")
}

/// Claude Code's report of a failed turn: `API Error: 400 …` (or `API Error: Request rejected
/// (429) · …`, `API Error: Repeated 529 …`), `Not logged in · Please run /login`, `Invalid
/// API key · …`.
fn says_error(text: &str) -> bool {
    let api = text
        .get(..11)
        .filter(|head| head.eq_ignore_ascii_case("api error: "))
        .map(|_| &text[11..]);
    api.is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_digit())
            || rest.starts_with("Request ")
            || rest.starts_with("Repeated ")
    }) || starts_with_ci(text, "not logged in · ")
        || starts_with_ci(text, "invalid api key · ")
}

/// A live dialog: `Some` with the line to show (if any), or `None` when there is none.
fn dialog(rows: &[Row], input: Option<InputBox>) -> Option<Option<String>> {
    let cursor = rows.iter().rposition(Row::has_cursor)?;
    // The user's own typing, `❯ 1. Yes` in the input box, is not a dialog.
    if input.is_some_and(|b| (b.top..=b.bottom).contains(&cursor)) {
        return None;
    }
    // A plain option is told from the user's own earlier prompts in the scrollback (`❯ fix
    // it`) by where it is: inside the dialog, under the last rule of the screen.
    let row = &rows[cursor];
    let plain = row.option().is_some_and(|(_, column)| column == row.indent);
    if plain && rows[cursor + 1..].iter().any(Row::is_rule) {
        return None;
    }
    // Claude Code draws a dialog in the input box's place, at the bottom: anything of the
    // conversation (a message, a spinner) or of an input box after the options means they
    // are scrollback (a file shown, Claude quoting a dialog).
    let mut footer = false;
    let mut tail = 0;
    for row in rows[cursor + 1..].iter().filter(|r| !r.is_blank()) {
        tail += 1;
        let prompt = row.is_prompt() && row.option().is_none();
        if tail > MAX_DIALOG_TAIL
            || prompt
            || row.is_box_top()
            || row.is_message()
            || row.is_spinner()
        {
            return None;
        }
        footer |= DIALOG_FOOTERS.iter().any(|f| contains_ci(row.text, f));
    }
    let (_, column) = rows[cursor].option()?;
    let first = first_option(rows, cursor, column);
    let question = question_row(rows, first);
    // A numbered list with a cursor but neither a question nor a footer is not one of
    // Claude Code's dialogs (and not a reason to call the user).
    if question.is_none() && !footer {
        return None;
    }
    Some(dialog_line(rows, first, question))
}

/// A dialog without options that waits for a key, drawn in the input box's place (Claude
/// Code 2.1's "Auto mode can't check actions in this session … Enter to stay in auto mode ·
/// shift+Tab to leave … · Esc to cancel"): its footer is the screen's last row (or the one
/// above, wrapped). The line is the dialog's title.
fn footer_dialog(rows: &[Row]) -> Option<Option<String>> {
    let last = rows.len().checked_sub(1)?;
    let footer =
        (last.saturating_sub(1)..=last).find(|&i| contains_ci(rows[i].text, WAITING_FOOTER))?;
    let (title, _) = dialog_title(rows, footer);
    Some(title.and_then(one_line))
}

/// The top row of the option list around `cursor`: options, their descriptions and wrapped
/// labels (indented past the number), and a separator rule between two options (a question
/// menu draws one above `Chat about this`).
fn first_option(rows: &[Row], cursor: usize, column: usize) -> usize {
    let part_of_list = |row: &Row| {
        row.option().is_some()
            || (!row.is_blank()
                && row.indent > column
                && !row.is_rule()
                && !row.is_box_top()
                && !row.is_box_bottom())
    };
    let mut first = cursor;
    while first > 0 {
        let above = &rows[first - 1];
        let separator = above.is_rule() && first >= 2 && part_of_list(&rows[first - 2]);
        if !(part_of_list(above) || separator) {
            break;
        }
        first -= 1;
    }
    first
}

/// The question above the option list, if there is one: the nearest row (at most two blank
/// rows between), or the one above it when the nearest explains the question (Claude Code
/// 2.1's plan approval: `Exit plan mode?` / `Claude wants to exit plan mode` / options).
fn question_row(rows: &[Row], first: usize) -> Option<usize> {
    let nearest_above = |end: usize| {
        (end.saturating_sub(3)..end)
            .rev()
            .find(|&i| !rows[i].is_blank())
            .filter(|&i| {
                let row = &rows[i];
                !row.is_rule() && !row.is_box_top() && !row.is_box_bottom()
            })
    };
    let asks = |i: usize| {
        let text = rows[i].text;
        text.ends_with('?') || QUESTION_STARTS.iter().any(|q| contains_ci(text, q))
    };
    let nearest = nearest_above(first)?;
    if asks(nearest) {
        return Some(nearest);
    }
    nearest_above(nearest).filter(|&i| rows[i].text.ends_with('?'))
}

/// What the dialog asks, in one line: the tool's title and detail when the dialog has one
/// (`Bash command: npm test`, clearer than the generic `Do you want to proceed?`), else the
/// question, else the dialog's title.
fn dialog_line(rows: &[Row], first: usize, question: Option<usize>) -> Option<String> {
    let (start, question) = match question {
        Some(row) => {
            let (start, text) = question_text(rows, row);
            (start, Some(text))
        }
        None => (first, None),
    };
    let (title, detail) = dialog_title(rows, start);
    let tool = title.filter(|t| TOOL_TITLES.iter().any(|k| t.eq_ignore_ascii_case(k)));
    let line = match (tool, detail, question) {
        (Some(tool), Some(detail), _) => format!("{tool}: {detail}"),
        (_, _, Some(question)) => question,
        _ => title?.to_owned(),
    };
    one_line(&line)
}

/// The question ending at row `last`, its wrapped beginning joined back (a row that starts
/// lowercase or with a path continues the one above), cut to start at the question itself
/// (`Claude has written up a plan … Would you like to` / `proceed?`). Returns the row the
/// question starts on, too.
fn question_text(rows: &[Row], last: usize) -> (usize, String) {
    let continues = |text: &str| {
        text.starts_with(|c: char| c.is_lowercase() || c.is_ascii_digit() || "/.~_-(".contains(c))
    };
    let mut start = last;
    while start > 0 && last - start < 2 && continues(rows[start].text) {
        let above = &rows[start - 1];
        if above.is_blank() || above.is_rule() || above.is_box_top() || above.is_box_bottom() {
            break;
        }
        start -= 1;
    }
    let text = rows[start..=last]
        .iter()
        .map(|r| r.text)
        .collect::<Vec<_>>()
        .join(" ");
    let from = QUESTION_STARTS
        .iter()
        .filter_map(|q| find_ci(&text, q))
        .min()
        .unwrap_or(0);
    let question = text.get(from..).unwrap_or(&text).to_owned();
    (start, question)
}

/// The dialog's title above row `end` and what it is about: the first row of a `╌╌╌` framed
/// section when it has one (the command of `Bash command`), else the next row that is not a
/// tip. The dialog starts under the nearest rule above (or, in the boxed style, its `╭─╮`
/// edge); boxes inside it (a plan, a diff) are stepped over.
fn dialog_title<'a>(rows: &[Row<'a>], end: usize) -> (Option<&'a str>, Option<&'a str>) {
    let mut depth = 0usize;
    let mut top = None;
    for i in (end.saturating_sub(MAX_DIALOG_HEIGHT)..end).rev() {
        let row = &rows[i];
        if row.is_box_bottom() {
            depth += 1;
        } else if row.is_box_top() {
            if depth == 0 {
                top = Some(i);
                break;
            }
            depth -= 1;
        } else if row.is_rule() && depth == 0 {
            top = Some(i);
            break;
        }
    }
    let Some(top) = top else {
        return (None, None);
    };
    let inside = &rows[top + 1..end];
    let mut texts = inside.iter().map(|r| r.text).filter(|t| !t.is_empty());
    let title = texts.next();
    let framed = inside
        .iter()
        .position(|r| r.text.starts_with("╌╌╌"))
        .and_then(|edge| inside[edge + 1..].iter().find(|r| !r.is_blank()))
        .map(|r| r.text)
        .filter(|t| !t.starts_with("╌╌╌"));
    let detail = framed.or_else(|| texts.find(|t| !t.starts_with("Tip:")));
    (title, detail)
}

/// Where `needle` (ASCII, lowercase) first occurs in `hay`, ignoring ASCII case. The index
/// is on a character boundary: the match starts with an ASCII byte.
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    if needle.is_empty() {
        return Some(0);
    }
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    find_ci(hay, needle).is_some()
}

/// Whether `hay` starts with `needle` (ASCII, lowercase), ignoring ASCII case.
fn starts_with_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .get(..needle.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    // The fixtures `screens/cc-<version>-*.txt` are `tmux capture-pane -p` of the real Claude
    // Code in a farm worker, against the tests' scripted model (the README's "Claude Code
    // versions" says how to capture them again). The others are the misfires earlier
    // readers made (reconstructed screens: keep them, each is a trap) and `idle-box.txt`,
    // the boxed prompt of Claude Code 1.x, reconstructed from published captures.
    use super::*;
    use AgentState::*;

    fn reading(state: AgentState, line: Option<&str>) -> Option<ScreenReading> {
        Some(ScreenReading {
            state,
            line: line.map(str::to_owned),
        })
    }

    fn state(screen: &str) -> Option<AgentState> {
        read(screen).map(|r| r.state)
    }

    const RULE: &str =
        "────────────────────────────────────────────────────────────────────────────────";

    /// An idle prompt of the ruled style with `above` over it.
    fn over_prompt(above: &str) -> String {
        format!("{above}\n\n{RULE}\n>\n{RULE}\n  ? for shortcuts\n")
    }

    #[test]
    fn a_limit_waiting_in_the_footer_alone_is_a_limit() {
        let screen = include_str!("screens/cc-2.1.332-usage-limit.txt")
            .lines()
            .filter(|l| !l.contains("You've hit") && !l.contains("● Usage limit"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            read(&screen),
            reading(Limited, Some("Usage limit reached · limit resets 8:33am"))
        );
    }

    #[test]
    fn answers_and_tool_output_that_sound_like_failures_are_not() {
        for (above, what) in [
            ("● API errors from S3 are retried three times.", "an answer"),
            ("● Not logged in users are redirected to /login.", "an answer"),
            ("● Invalid API key responses come back as 401.", "an answer"),
            ("● API Error handling lives in src/api.rs.", "an answer"),
            (
                "● Bash(./deploy.sh)\n  ⎿  Usage limit reached on the staging key\n● The deploy stopped.",
                "a tool's output",
            ),
            (
                "● Here is what the quota page says:\n  You've hit your hourly quota · resets at noon",
                "an answer's second row",
            ),
        ] {
            let screen = over_prompt(&format!("❯ what happened?\n\n{above}"));
            assert_eq!(read(&screen), reading(Idle, None), "{what}: {above}");
        }
    }

    #[test]
    fn a_turn_that_went_on_after_its_limit_is_not_limited() {
        // Claude Code went on by itself at the reset, in the same turn.
        let screen = over_prompt(
            "❯ fix it\n\n  ⎿  You've hit your 5-hour limit · resets 8:33am (UTC)\n\n\
             ● Usage limit reached · set to continue automatically at 8:33am\n\n● Fixed it.",
        );
        assert_eq!(read(&screen), reading(Idle, None));
    }

    #[test]
    fn the_older_boxed_prompt_is_idle() {
        assert_eq!(
            read(include_str!("screens/idle-box.txt")),
            reading(Idle, None)
        );
    }

    #[test]
    fn real_auto_mode_notice_waits_for_the_user() {
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-auto-mode-dialog.txt")),
            reading(
                NeedsInput,
                Some("Auto mode can't check actions in this session")
            )
        );
    }

    #[test]
    fn real_permission_prompt_with_plain_options() {
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-permission-prompt.txt")),
            reading(NeedsInput, Some("Bash command: touch /tmp/ran-it"))
        );
    }

    #[test]
    fn real_permission_prompt_in_manual_mode() {
        // Numbered options, and a tip between the title and the command.
        assert_eq!(
            read(include_str!(
                "screens/cc-2.1.332-bash-permission-manual.txt"
            )),
            reading(NeedsInput, Some("Bash command: touch /tmp/made-by-claude"))
        );
    }

    #[test]
    fn real_file_creation_prompt() {
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-edit-permission.txt")),
            reading(NeedsInput, Some("Do you want to create notes.txt?"))
        );
    }

    #[test]
    fn real_plan_approval() {
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-plan.txt")),
            reading(NeedsInput, Some("Exit plan mode?"))
        );
    }

    #[test]
    fn real_question_with_choices() {
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-question.txt")),
            reading(NeedsInput, Some("Which colour should the button be?"))
        );
    }

    #[test]
    fn real_usage_limit() {
        // Claude Code offers to continue by itself at the reset (`Esc to cancel` under the
        // input box): the agent is limited, not waiting for a key.
        let limited = reading(
            Limited,
            Some("You've hit your 5-hour limit · resets 8:33am (UTC)"),
        );
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-usage-limit.txt")),
            limited
        );
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-usage-limit-cancelled.txt")),
            limited
        );
    }

    #[test]
    fn real_api_error_after_retries_and_while_retrying() {
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-api-error.txt")),
            reading(Error, Some("API Error: 400 scripted bad request"))
        );
        assert_eq!(
            state(include_str!("screens/cc-2.1.332-api-error-retrying.txt")),
            Some(Working)
        );
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-not-logged-in.txt")),
            reading(Error, Some("Not logged in · Please run /login"))
        );
    }

    #[test]
    fn real_first_run_api_key_question() {
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-api-key-dialog.txt")),
            reading(NeedsInput, Some("Do you want to use this API key?"))
        );
    }

    #[test]
    fn real_working_and_idle() {
        assert_eq!(
            state(include_str!("screens/cc-2.1.332-working.txt")),
            Some(Working)
        );
        // Its own earlier prompts (`❯ answer SLOW please`) in the scrollback are not options.
        assert_eq!(
            read(include_str!("screens/cc-2.1.332-idle-after-answer.txt")),
            reading(Idle, None)
        );
    }

    #[test]
    fn starting_says_nothing() {
        assert_eq!(read(include_str!("screens/cc-2.1.332-starting.txt")), None);
    }

    // Misfire 1.
    #[test]
    fn a_numbered_list_in_an_answer_is_not_a_dialog() {
        assert_eq!(
            read(include_str!("screens/misfire-numbered-list.txt")),
            reading(Idle, None)
        );
    }

    // Misfire 2.
    #[test]
    fn a_stale_spinner_is_not_working() {
        assert_eq!(
            read(include_str!("screens/misfire-stale-thinking.txt")),
            reading(Idle, None)
        );
        // Right above the box, but without the hint.
        assert_eq!(state(&over_prompt("⏺ Done.\n\n✻ Thinking…")), Some(Idle));
        // With the hint, but a message came after it.
        assert_eq!(
            state(&over_prompt(
                "✻ Thinking… (3s · esc to interrupt)\n⏺ Done. Nothing else to do."
            )),
            Some(Idle)
        );
    }

    // Misfire 3.
    #[test]
    fn a_question_typed_into_the_box_is_not_a_dialog() {
        assert_eq!(
            read(include_str!("screens/misfire-typed-question.txt")),
            reading(Idle, None)
        );
        // The whole typing looks like an option.
        let typed = format!("⏺ Which one?\n\n{RULE}\n❯ 1. Yes\n{RULE}\n  ? for shortcuts");
        assert_eq!(state(&typed), Some(Idle));
    }

    // Misfire 3.
    #[test]
    fn a_dialog_shown_in_the_conversation_is_not_one() {
        assert_eq!(
            read(include_str!("screens/misfire-file-shows-question.txt")),
            reading(Working, None)
        );
    }

    // Misfire 4.
    #[test]
    fn a_dialog_wins_over_an_interrupt_hint_above_it() {
        assert_eq!(
            read(include_str!("screens/misfire-dialog-over-spinner.txt")),
            reading(
                NeedsInput,
                Some("Bash command: git push origin feature/retry")
            )
        );
    }

    #[test]
    fn other_dialogs() {
        // The usage limit: the question and its footer.
        let limit = " You've hit your session limit · resets 11pm\n\n What do you want to do?\n \
                     ❯ 1. Stop and wait for limit to reset\n   2. Switch to usage credits\n\n \
                     Enter to confirm · Esc to cancel";
        assert_eq!(
            read(limit),
            reading(NeedsInput, Some("What do you want to do?"))
        );
        // A question menu with the cursor moved under its separator, and no question row.
        let chat = format!(
            "{RULE}\n ☐ Cache store\n\n  1. Redis\n  2. Type something.\n{RULE}\n❯ 3. Chat about \
             this\n\nEnter to select · ↑/↓ to navigate · Esc to cancel"
        );
        assert_eq!(read(&chat), reading(NeedsInput, Some("☐ Cache store")));
        // An MCP tool: its title and the tool.
        let mcp = format!(
            "{RULE}\n Tool use\n\n   github - create_issue(title: \"Flaky test\") (MCP)\n\n \
             Do you want to proceed?\n ❯ 1. Yes\n   2. No, and tell Claude what to do \
             differently (esc)"
        );
        assert_eq!(
            read(&mcp),
            reading(
                NeedsInput,
                Some("Tool use: github - create_issue(title: \"Flaky test\") (MCP)")
            )
        );
        // A question wrapped on a narrow pane.
        let wrapped = format!(
            "{RULE}\n Edit file\n\n Do you want to make this edit to\n src/agent/screen.rs?\n \
             ❯ 1. Yes\n   2. No"
        );
        assert_eq!(
            read(&wrapped),
            reading(
                NeedsInput,
                Some("Do you want to make this edit to src/agent/screen.rs?")
            )
        );
    }

    #[test]
    fn a_cursor_without_question_or_footer_is_not_a_dialog() {
        // The model picker: the user opened it, nothing waits on them.
        let picker = " Select model\n Switch between Claude models.\n\n ❯ 1. Default \
                      (recommended)\n   2. Opus\n\n Enter to confirm · Esc to exit";
        assert_eq!(read(picker), None);
    }

    #[test]
    fn full_screen_views_say_nothing() {
        let transcript = "⏺ Bash(ls)\n  ⎿  src\n\n  Showing detailed transcript · ctrl+o to toggle";
        assert_eq!(read(transcript), None);
        // A box too far above the bottom is not the live one.
        let far = format!("{}{}", over_prompt("⏺ Done."), "  line\n".repeat(20));
        assert_eq!(read(&far), None);
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let long = "x".repeat(100_000);
        let rule = "─".repeat(100_000);
        let box_chars = "╭╮╰╯│─".repeat(20_000);
        let many_rows = format!("{RULE}\n>\n").repeat(50_000);
        let options = "❯ 1. Yes\n".repeat(10_000);
        let wide_unicode = "é".repeat(MAX_COLS + 3);
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let bytes: Vec<u8> = (0..200_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly the bytes of the markers, newlines and UTF-8 fragments.
                b"\n \xe2\x9d\xaf\x94\x80\x95\xad1.>?\xff"[(seed % 14) as usize]
            })
            .collect();
        let noise = String::from_utf8_lossy(&bytes);
        let cases: Vec<&str> = vec![
            "",
            "\n",
            "\n\n \n",
            "│",
            "││\n│",
            "╭\n│ >\n╰",
            "╭╮\n│ > │\n╰╯",
            "─\n>\n─",
            "───\n❯\n───",
            "❯ 1.",
            "❯ 1. Yes",
            "❯ 99999999999999999999. Yes",
            "? \n❯ 1. x",
            "\0\u{1b}[31m❯\u{1b}[0m 1. Yes\r\n",
            &long,
            &rule,
            &box_chars,
            &many_rows,
            &options,
            &wide_unicode,
            &noise,
        ];
        for case in cases {
            let _ = read(case);
        }
        assert_eq!(read(&options), None);
        assert_eq!(read(&many_rows).map(|r| r.state), Some(Idle));
        assert_eq!(
            read("Do you want to proceed?\n❯ 1. Yes").map(|r| r.state),
            Some(NeedsInput)
        );
    }
}
