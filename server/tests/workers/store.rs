//! The store's contract, the same suite against the embedded store and a real Redis.

use farm::presets::Preset;
use farm::store::{Setup, Store, WorkerRecord};
use farm::FarmError;

use crate::redis::RedisServer;
use crate::support::token;

fn setup_of(records: &std::collections::HashMap<String, WorkerRecord>, id: &str) -> Setup {
    records[id].setup.clone().expect("a setup was recorded")
}

/// What every store must do; `reopen` gives another handle on the same data (a second
/// dashboard, or the same one after a restart) and `other` a different farm's.
async fn keeps_what_labels_cannot(store: Store, reopen: Store, other: Store) {
    assert!(store.records().await.unwrap().is_empty());
    store.set_setup("alpha", &Setup::Cloning).await.unwrap();
    store.set_setup("beta", &Setup::Ready).await.unwrap();
    let failed = Setup::Failed {
        reason: "fatal: repository 'https://example.com/x/' not found".into(),
    };
    store.set_setup("alpha", &failed).await.unwrap();

    let records = reopen.records().await.unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(setup_of(&records, "alpha"), failed);
    assert_eq!(setup_of(&records, "beta"), Setup::Ready);
    assert!(other.records().await.unwrap().is_empty(), "farms meet");

    assert!(store.forget("alpha").await.unwrap());
    assert!(!store.forget("alpha").await.unwrap());
    let records = reopen.records().await.unwrap();
    assert_eq!(records.keys().collect::<Vec<_>>(), vec!["beta"]);

    // Presets: saved, replaced, read back by another handle, deleted; not another farm's.
    let preset: Preset = serde_json::from_str(r#"{"model": "sonnet", "env": {"A": "1"}}"#).unwrap();
    store.put_preset("rust", &Preset::default()).await.unwrap();
    store.put_preset("rust", &preset).await.unwrap();
    assert_eq!(reopen.presets().await.unwrap()["rust"], preset);
    assert!(other.presets().await.unwrap().is_empty(), "farms meet");
    assert!(store.delete_preset("rust").await.unwrap());
    assert!(!store.delete_preset("rust").await.unwrap());
    assert!(reopen.presets().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_embedded_store_keeps_what_labels_cannot() {
    let store = Store::open(None, "one").await.unwrap();
    assert_eq!(store.kind(), "embedded");
    let other = Store::open(None, "one").await.unwrap();
    // The embedded store lives in one process: a clone is the same store, a new one is not.
    keeps_what_labels_cannot(store.clone(), store, other).await;
}

#[tokio::test]
async fn the_redis_store_keeps_what_labels_cannot() {
    let redis = RedisServer::start().await;
    let instance = format!("cwf-test-{}", token());
    let open = |instance: String| {
        let url = redis.url();
        async move { Store::open(Some(&url), &instance).await.unwrap() }
    };
    let store = open(instance.clone()).await;
    assert_eq!(store.kind(), "redis");
    keeps_what_labels_cannot(
        store,
        open(instance.clone()).await,
        open(format!("{instance}-other")).await,
    )
    .await;
}

#[tokio::test]
async fn redis_problems_say_what_to_fix_and_never_show_the_password() {
    let redis = RedisServer::start().await;
    let wrong = format!("redis://:wrong-{}@127.0.0.1:{}/0", token(), redis.port);
    let nothing_there = format!(
        "redis://:{}@127.0.0.1:{}/0",
        redis.password,
        crate::support::free_port()
    );
    for url in [wrong.as_str(), nothing_there.as_str(), "http://not-redis"] {
        let error = match Store::open(Some(url), "x").await {
            Ok(_) => panic!("{url} was accepted"),
            Err(e) => e,
        };
        assert!(matches!(error, FarmError::StoreUnavailable(_)), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("REDIS_URL"), "{message}");
        assert!(!message.contains("wrong-"), "{message}");
        assert!(!message.contains(&redis.password), "{message}");
    }
}
