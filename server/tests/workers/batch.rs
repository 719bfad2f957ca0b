//! One action for several workers against the real engine: a prompt typed into each one's
//! tmux session (and Enter pressed), restart and delete together, each worker with its own
//! result; a bad request is refused as a whole and types nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::client::read_past;
use crate::support::{TestFarm, PATIENCE};
use crate::{open_terminal, run_until};

#[tokio::test]
async fn a_prompt_restart_and_delete_for_several_workers_at_once() {
    let farm = TestFarm::start().await;
    for name in ["batch-one", "batch-two", "batch-idle"] {
        assert_eq!(farm.create(name).await.status(), StatusCode::CREATED);
    }
    // "batch-one" and "batch-two" have a session (their terminal was opened); "batch-idle"
    // has none yet. (Container names are the engine's, shared by every test farm.)
    let mut one = open_terminal(&farm.base, "batch-one", &[]).await.unwrap();
    let mut two = open_terminal(&farm.base, "batch-two", &[]).await.unwrap();
    run_until(&mut one, "echo up-$((1+1))\r", "up-2").await;
    run_until(&mut two, "echo up-$((1+1))\r", "up-2").await;

    // A line break would send half a prompt: refused as a whole, nothing typed anywhere.
    let refused = farm
        .post(
            "/api/workers/batch",
            &json!({"ids": ["batch-one", "batch-two"], "action": "prompt", "text": "echo a\necho b"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("one line"),
        "{body}"
    );

    let sent = farm
        .post(
            "/api/workers/batch",
            &json!({"ids": ["batch-one", "batch-two", "batch-idle", "ghost"], "action": "prompt", "text": "echo sent-to-$((6*7))"}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let results: Value = sent.json().await.unwrap();
    let results = results["results"].as_array().unwrap().clone();
    let by_id = |id: &str| results.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(by_id("batch-one")["ok"], true, "{results:?}");
    assert_eq!(by_id("batch-two")["ok"], true, "{results:?}");
    assert_eq!(by_id("batch-idle")["code"], "no_session", "{results:?}");
    assert!(by_id("batch-idle")["error"]
        .as_str()
        .unwrap()
        .contains("open its terminal"));
    assert_eq!(by_id("ghost")["code"], "not_found", "{results:?}");
    // Typed and entered in both sessions: the shells ran it.
    read_past(&mut one, "sent-to-42", PATIENCE).await;
    read_past(&mut two, "sent-to-42", PATIENCE).await;

    let restarted = farm
        .post(
            "/api/workers/batch",
            &json!({"ids": ["batch-one", "batch-two"], "action": "restart"}),
        )
        .await;
    let restarted: Value = restarted.json().await.unwrap();
    assert!(
        restarted["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true),
        "{restarted}"
    );

    let deleted = farm
        .post(
            "/api/workers/batch",
            &json!({"ids": ["batch-one", "batch-two", "batch-idle"], "action": "delete"}),
        )
        .await;
    let deleted: Value = deleted.json().await.unwrap();
    assert!(
        deleted["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true),
        "{deleted}"
    );
    assert!(farm.containers().is_empty(), "{:?}", farm.containers());
}
