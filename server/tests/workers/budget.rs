//! The farm-wide memory budget against the real engine: a create that would take the sum
//! of the workers' memory limits past it is refused, saying how much is free, and leaves
//! nothing behind. (Container names are the engine's, shared by every test farm: each test
//! names its workers apart.)

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::TestFarm;

#[tokio::test]
async fn a_create_past_the_memory_budget_is_refused_with_what_is_free() {
    let farm = TestFarm::start_with(&["--memory-budget-mb", "700"]).await;
    let first = farm
        .post(
            "/api/workers",
            &json!({"name": "budget-small", "memory_mb": 256}),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    // The farm says what it has given and what is left.
    let usage = farm.get_json("/api/farm").await;
    assert_eq!(usage["workers"], 1, "{usage}");
    assert_eq!(usage["memory_given_mb"], 256, "{usage}");
    assert_eq!(usage["memory_budget_mb"], 700, "{usage}");

    let refused = farm
        .post(
            "/api/workers",
            &json!({"name": "budget-big", "memory_mb": 512}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "over_budget");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("asks for 512 MiB, 444 MiB of 700 MiB are free"),
        "{message}"
    );
    // Nothing half-made: no container, no record.
    assert_eq!(
        farm.containers(),
        vec!["claude-worker-budget-small".to_owned()]
    );
    let listed = farm.get_json("/api/workers").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // What fits still goes in.
    let fits = farm
        .post(
            "/api/workers",
            &json!({"name": "budget-fits", "memory_mb": 444}),
        )
        .await;
    assert_eq!(fits.status(), StatusCode::CREATED);
}
