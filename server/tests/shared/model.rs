//! A scripted stand-in for Anthropic's Messages API, so that the real Claude Code CLI in a
//! worker runs end to end in the tests. It is a fake by necessity: the model cannot be
//! reached from here. It answers `POST /v1/messages` as the API streams (server-sent events:
//! `message_start`, `content_block_start/delta/stop`, `message_delta`, `message_stop`), and
//! what it answers is chosen by markers in the user's latest message:
//!
//! - `[bash: <command>]`: a Bash tool call (Claude Code then asks permission); once the tool's
//!   result comes back, a short answer;
//! - `[ask]`: a question to the user with two choices (AskUserQuestion), `QUESTION`;
//! - `[plan]`: a plan to approve (ExitPlanMode; Claude Code asks in plan mode);
//! - `[slow]`: an answer streamed over several seconds;
//! - `[error]`: an API error Claude Code does not retry (400; a 500 it retries ten times over
//!   minutes); `[limit]`: a usage limit (429 with the subscription's rate-limit headers,
//!   resetting in three hours);
//! - anything else: `Scripted answer: <the first words of the prompt>`.
//!
//! Every answer reports its usage (each with its own message id, as the API does); the model
//! keeps the sums and the prompts it answered, and tells them at `GET /scripted/usage`; and
//! how each request signed in (its `Authorization` or `x-api-key`) and which model it named.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream;
use serde_json::{json, Value};

/// Tokens each answer reports.
pub const INPUT_TOKENS: u64 = 120;
pub const OUTPUT_TOKENS: u64 = 12;
/// What `[ask]` asks, and its choices.
pub const QUESTION: &str = "Which colour should the button be?";
pub const CHOICES: [&str; 2] = ["Red", "Blue"];
/// What `[error]` answers.
pub const ERROR_MESSAGE: &str = "scripted bad request";

/// A message id of its own for each answer: Claude Code's transcripts, and the farm's
/// usage, tell answers apart by it.
fn message_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("msg_scripted_{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub struct ScriptedModel {
    pub addr: SocketAddr,
    record: Arc<Mutex<Record>>,
    server: tokio::task::JoinHandle<()>,
}

/// What the model has answered so far.
#[derive(Default)]
struct Record {
    input_tokens: u64,
    output_tokens: u64,
    prompts: Vec<String>,
    calls: Vec<Call>,
}

/// How one request to `/v1/messages` signed in, and the model it named.
#[derive(Debug, Clone)]
pub struct Call {
    /// `Authorization` (`Bearer …` for a subscription token), or `x-api-key: …` for a key.
    pub credential: String,
    pub model: String,
}

impl ScriptedModel {
    /// Listens on the host's address on Docker's default bridge, where workers reach it (and
    /// nothing beyond the machine does).
    pub async fn start() -> ScriptedModel {
        let record = Arc::new(Mutex::new(Record::default()));
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/messages/count_tokens", post(count_tokens))
            .route("/scripted/usage", get(told_usage))
            .with_state(record.clone());
        let listener = tokio::net::TcpListener::bind((docker_bridge_address(), 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ScriptedModel {
            addr,
            record,
            server,
        }
    }

    /// The base URL workers reach it at (`ANTHROPIC_BASE_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Input and output tokens reported so far.
    pub fn usage(&self) -> (u64, u64) {
        let record = self.record.lock().unwrap();
        (record.input_tokens, record.output_tokens)
    }

    /// Every request to `/v1/messages` so far, answered or not.
    pub fn calls(&self) -> Vec<Call> {
        self.record.lock().unwrap().calls.clone()
    }

    /// How many of the prompts answered contain `text`.
    pub fn answered(&self, text: &str) -> usize {
        let record = self.record.lock().unwrap();
        record.prompts.iter().filter(|p| p.contains(text)).count()
    }
}

/// The host's address on Docker's default bridge.
fn docker_bridge_address() -> std::net::Ipv4Addr {
    let out = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "docker0"])
        .output()
        .expect("the ip command (iproute2)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|cidr| cidr.split('/').next())
        .and_then(|ip| ip.parse().ok())
        .expect("Docker's bridge docker0 has an IPv4 address")
}

impl Drop for ScriptedModel {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn told_usage(State(record): State<Arc<Mutex<Record>>>) -> Json<Value> {
    let record = record.lock().unwrap();
    Json(json!({
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "answers": record.prompts.len(),
    }))
}

async fn count_tokens() -> Json<Value> {
    Json(json!({ "input_tokens": INPUT_TOKENS }))
}

/// What the script says to the latest message.
enum Reply {
    Text { text: String, pause: Duration },
    Bash(String),
    Question,
    Plan,
    Error(StatusCode, &'static str, &'static str),
}

/// The user's latest message as the script reads it: its text blocks, and whether it carries
/// a tool's result.
struct Latest {
    texts: Vec<String>,
    tool_result: bool,
}

/// `text` without Claude Code's `<system-reminder>…</system-reminder>` sections, trimmed.
fn without_reminders(text: &str) -> String {
    let mut rest = text;
    let mut kept = String::new();
    while let Some((before, after)) = rest.split_once("<system-reminder>") {
        kept.push_str(before);
        rest = after
            .split_once("</system-reminder>")
            .map_or("", |(_, end)| end);
    }
    kept.push_str(rest);
    kept.trim().to_owned()
}

impl Latest {
    fn of(request: &Value) -> Latest {
        // Claude Code 2.1 ends the list with a `system` message of its own (the environment).
        let last = request["messages"]
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
            .cloned()
            .unwrap_or_default();
        let blocks = match &last["content"] {
            Value::String(text) => vec![json!({ "type": "text", "text": text })],
            Value::Array(blocks) => blocks.clone(),
            _ => Vec::new(),
        };
        Latest {
            texts: blocks
                .iter()
                .filter_map(|b| b["text"].as_str().map(str::to_owned))
                .collect(),
            tool_result: blocks.iter().any(|b| b["type"] == "tool_result"),
        }
    }

    /// The user's words: Claude Code puts its own context (`# Environment`,
    /// `<system-reminder>…</system-reminder>`) in text blocks beside them and before them.
    fn prompt(&self) -> String {
        self.texts
            .iter()
            .rev()
            .map(|t| without_reminders(t))
            .find(|t| !t.is_empty() && !t.starts_with(['<', '#']))
            .unwrap_or_default()
    }

    /// Markers are read in the user's latest words only: after a failed turn Claude Code
    /// sends the failed prompt and the next one in one message.
    fn reply(&self) -> Reply {
        if self.tool_result {
            return Reply::Text {
                text: "Ran the command.".into(),
                pause: Duration::ZERO,
            };
        }
        let prompt = self.prompt();
        let marked = |marker: &str| prompt.contains(marker);
        if let Some(command) = prompt
            .split_once("[bash: ")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(command, _)| command.to_owned())
        {
            return Reply::Bash(command);
        }
        if marked("[ask]") {
            return Reply::Question;
        }
        if marked("[plan]") {
            return Reply::Plan;
        }
        if marked("[error]") {
            return Reply::Error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                ERROR_MESSAGE,
            );
        }
        if marked("[limit]") {
            return Reply::Error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "usage limit",
            );
        }
        let words = prompt
            .split_whitespace()
            .take(6)
            .collect::<Vec<_>>()
            .join(" ");
        Reply::Text {
            text: format!("Scripted answer: {words}"),
            pause: if marked("[slow]") {
                Duration::from_millis(500)
            } else {
                Duration::ZERO
            },
        }
    }
}

async fn messages(
    State(record): State<Arc<Mutex<Record>>>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> Response {
    let header_text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let credential = match (header_text("authorization"), header_text("x-api-key")) {
        (Some(authorization), _) => authorization.to_owned(),
        (None, Some(key)) => format!("x-api-key: {key}"),
        (None, None) => String::new(),
    };
    record.lock().unwrap().calls.push(Call {
        credential,
        model: request["model"].as_str().unwrap_or_default().to_owned(),
    });
    let latest = Latest::of(&request);
    let reply = latest.reply();
    if let Reply::Error(status, kind, message) = reply {
        let body = json!({ "type": "error", "error": { "type": kind, "message": message } });
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            // What the API tells a subscription whose five-hour limit is used up.
            let reset = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 3 * 3600;
            let headers = response.headers_mut();
            for (name, value) in [
                ("anthropic-ratelimit-unified-status", "rejected".to_owned()),
                ("anthropic-ratelimit-unified-reset", reset.to_string()),
                (
                    "anthropic-ratelimit-unified-representative-claim",
                    "five_hour".to_owned(),
                ),
                (
                    "anthropic-ratelimit-unified-5h-status",
                    "rejected".to_owned(),
                ),
                ("anthropic-ratelimit-unified-5h-reset", reset.to_string()),
                ("retry-after", (3 * 3600).to_string()),
            ] {
                headers.insert(name, value.parse().unwrap());
            }
        }
        return response;
    }
    {
        let mut record = record.lock().unwrap();
        record.input_tokens += INPUT_TOKENS;
        record.output_tokens += OUTPUT_TOKENS;
        record.prompts.push(latest.prompt());
    }
    let model = request["model"]
        .as_str()
        .unwrap_or("claude-scripted")
        .to_owned();
    let (content, stop, pause) = match reply {
        Reply::Text { text, pause } => (Content::Text(text), "end_turn", pause),
        Reply::Bash(command) => (
            Content::Tool("Bash", bash_input(&command)),
            "tool_use",
            Duration::ZERO,
        ),
        Reply::Question => (
            Content::Tool("AskUserQuestion", question_input()),
            "tool_use",
            Duration::ZERO,
        ),
        Reply::Plan => (
            Content::Tool(
                "ExitPlanMode",
                json!({ "plan": "1. Add the button\n2. Test it" }),
            ),
            "tool_use",
            Duration::ZERO,
        ),
        Reply::Error(..) => unreachable!("answered above"),
    };
    let id = message_id();
    if request["stream"] != true {
        let block = match &content {
            Content::Text(text) => json!({ "type": "text", "text": text }),
            Content::Tool(name, input) => json!({
                "type": "tool_use", "id": format!("toolu_{id}"), "name": name, "input": input,
            }),
        };
        return Json(json!({
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [block], "stop_reason": stop, "stop_sequence": null,
            "usage": { "input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS },
        }))
        .into_response();
    }
    let events = sse_events(&id, &model, &content, stop);
    let body = stream::unfold(
        (events.into_iter(), true),
        move |(mut events, first)| async move {
            let event = events.next()?;
            if !first {
                tokio::time::sleep(pause).await;
            }
            Some((Ok::<_, Infallible>(Bytes::from(event)), (events, false)))
        },
    );
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

enum Content {
    Text(String),
    /// A tool call: the tool's name and input.
    Tool(&'static str, Value),
}

fn bash_input(command: &str) -> Value {
    json!({ "command": command, "description": "Run the scripted command" })
}

fn question_input() -> Value {
    let options: Vec<Value> = CHOICES
        .iter()
        .map(|c| json!({ "label": c, "description": format!("A {} button", c.to_lowercase()) }))
        .collect();
    json!({ "questions": [{
        "question": QUESTION, "header": "Colour", "multiSelect": false, "options": options,
    }] })
}

/// The events of one streamed answer, each as it goes on the wire.
fn sse_events(id: &str, model: &str, content: &Content, stop: &str) -> Vec<String> {
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let mut events = vec![event(
        "message_start",
        json!({ "type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": { "input_tokens": INPUT_TOKENS, "output_tokens": 1 },
        }}),
    )];
    match content {
        Content::Text(text) => {
            events.push(event(
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0,
                        "content_block": { "type": "text", "text": "" } }),
            ));
            for word in text.split_inclusive(' ') {
                events.push(event(
                    "content_block_delta",
                    json!({ "type": "content_block_delta", "index": 0,
                            "delta": { "type": "text_delta", "text": word } }),
                ));
            }
        }
        Content::Tool(name, input) => {
            events.push(event(
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0, "content_block": {
                    "type": "tool_use", "id": format!("toolu_{id}"), "name": name, "input": {} } }),
            ));
            events.push(event(
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": 0,
                        "delta": { "type": "input_json_delta", "partial_json": input.to_string() } }),
            ));
        }
    }
    events.push(event(
        "content_block_stop",
        json!({ "type": "content_block_stop", "index": 0 }),
    ));
    events.push(event(
        "message_delta",
        json!({ "type": "message_delta", "delta": { "stop_reason": stop, "stop_sequence": null },
                "usage": { "output_tokens": OUTPUT_TOKENS } }),
    ));
    events.push(event("message_stop", json!({ "type": "message_stop" })));
    events
}
