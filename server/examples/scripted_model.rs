//! The tests' scripted stand-in for Anthropic's Messages API (`tests/shared/model.rs`) as a
//! program of its own, for the end-to-end tests: the real Claude Code in the farm's workers
//! talks to it. Prints `listening on <base URL>` (the host's address on Docker's default
//! bridge) and serves until it is stopped; `GET /scripted/usage` says what it has answered.

#[path = "../tests/shared/model.rs"]
#[expect(
    dead_code,
    reason = "the integration tests call the parts this program does not"
)]
mod model;

#[tokio::main]
async fn main() {
    let model = model::ScriptedModel::start().await;
    println!("listening on {}", model.url());
    tokio::signal::ctrl_c().await.ok();
}
