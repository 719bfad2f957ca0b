//! The tests' scripted stand-in for Anthropic's Messages API (`tests/shared/model.rs`) as a
//! program of its own, for the end-to-end tests: the real Claude Code in the farm's workers
//! talks to it. Prints `listening on <port>` and serves until it is stopped; `GET
//! /scripted/usage` says what it has answered.

// The integration tests call the parts this program does not.
#[path = "../tests/shared/model.rs"]
#[allow(dead_code)]
mod model;

#[tokio::main]
async fn main() {
    let model = model::ScriptedModel::start().await;
    println!("listening on {}", model.addr.port());
    tokio::signal::ctrl_c().await.ok();
}
