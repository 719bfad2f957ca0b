//! The service's rules on an engine in memory (`engine::fake`): no Docker, so they run in a
//! moment. The integration tests (`server/tests/workers/`) run the same rules on Docker.

use std::sync::Arc;

use clap::Parser;
use serde_json::json;

use super::{check_budget, Room, WorkerService, WorkersFeed};
use crate::batch::{BatchAction, BatchRequest};
use crate::config::Config;
use crate::engine::fake::FakeEngine;
use crate::error::FarmError;
use crate::store::{EmbeddedStore, Setup, Store};
use crate::worker::NewWorker;

/// A farm of at most `max_workers` with `budget_mb` of memory for them, on a fake engine.
async fn farm(max_workers: usize, budget_mb: u64) -> (WorkerService, Arc<FakeEngine>, Store) {
    let config = Config::parse_from([
        "farm",
        "--instance",
        "unit",
        "--max-workers",
        &max_workers.to_string(),
        "--memory-budget-mb",
        &budget_mb.to_string(),
        "--agent-status",
        "false",
    ]);
    let engine = Arc::new(FakeEngine::new("unit", 16_384));
    let store = Store::Embedded(EmbeddedStore::default());
    let service = WorkerService::with_engine(config, engine.clone(), store.clone())
        .await
        .unwrap();
    engine.take_calls();
    (service, engine, store)
}

fn named(name: &str) -> NewWorker {
    serde_json::from_value(json!({ "name": name })).unwrap()
}

#[tokio::test]
async fn workers_are_made_up_to_the_limit_and_no_further() {
    let (service, engine, _) = farm(2, 100_000).await;
    for name in ["one", "two"] {
        let worker = service.create(named(name)).await.unwrap();
        assert_eq!(worker.id, name);
    }
    let refused = service.create(named("three")).await.unwrap_err();
    assert!(matches!(refused, FarmError::LimitReached(2)), "{refused}");
    assert_eq!(service.list().await.unwrap().len(), 2);
    // A deleted worker's place is free at once; a name taken is refused.
    service.delete("two").await.unwrap();
    let again = service.create(named("one")).await.unwrap_err();
    assert!(matches!(again, FarmError::AlreadyExists(_)), "{again}");
    service.create(named("two")).await.unwrap();
    assert!(engine.take_calls().contains(&"create_worker"));
}

#[tokio::test]
async fn the_memory_budget_holds() {
    // Room for two workers of the default 2048 MiB.
    let (service, _, _) = farm(20, 4096).await;
    service.create(named("a")).await.unwrap();
    service.create(named("b")).await.unwrap();
    let refused = service.create(named("c")).await.unwrap_err();
    assert!(matches!(refused, FarmError::OverBudget { .. }), "{refused}");
    // A smaller worker does not fit either: none is left.
    let small: NewWorker =
        serde_json::from_value(json!({ "name": "d", "memory_mb": 512 })).unwrap();
    assert!(matches!(
        service.create(small).await.unwrap_err(),
        FarmError::OverBudget { .. }
    ));
    assert_eq!(service.usage().await.unwrap().memory_given_mb, 4096);
}

#[tokio::test]
async fn a_flood_against_a_full_farm_makes_exactly_the_room() {
    let (service, _, _) = farm(3, 100_000).await;
    let creates = (0..40).map(|i| {
        let service = service.clone();
        tokio::spawn(async move { service.create(named(&format!("flood-{i}"))).await })
    });
    let results = futures_util::future::join_all(creates).await;
    let made = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert_eq!(made, 3);
    for result in results {
        if let Ok(Err(e)) = result {
            assert!(matches!(e, FarmError::LimitReached(3)), "{e}");
        }
    }
    assert_eq!(service.list().await.unwrap().len(), 3);
}

#[tokio::test]
async fn only_this_farms_workers_are_touched() {
    let (service, _, _) = farm(20, 100_000).await;
    for id in ["ghost", "Bad Id", "../x"] {
        assert!(service.delete(id).await.is_err(), "{id}");
        assert!(service.restart(id).await.is_err(), "{id}");
        assert!(service.type_prompt(id, "hello").await.is_err(), "{id}");
    }
    assert!(matches!(
        service.delete("ghost").await.unwrap_err(),
        FarmError::NotFound(_)
    ));
    assert!(matches!(
        service.create(named("x")).await.map(|w| w.id),
        Ok(id) if id == "x"
    ));
}

#[tokio::test]
async fn a_batch_answers_for_each_worker_in_order() {
    let (service, engine, _) = farm(20, 100_000).await;
    service.create(named("a")).await.unwrap();
    let request = BatchRequest {
        ids: vec!["a".into(), "missing".into()],
        action: BatchAction::Prompt {
            text: "run the tests".into(),
        },
    };
    let results = service.batch(&request).await.unwrap();
    assert_eq!(results.len(), 2);
    assert!(results[0].ok && results[0].id == "a");
    assert!(!results[1].ok);
    assert_eq!(results[1].code.as_deref(), Some("not_found"));
    // The prompt went into the worker's session as literal keys, then Enter on its own.
    let typed = engine.commands();
    assert_eq!(typed.len(), 2, "{typed:?}");
    assert_eq!(typed[0].1.last().map(String::as_str), Some("run the tests"));
    assert_eq!(typed[1].1.last().map(String::as_str), Some("Enter"));
}

#[tokio::test]
async fn reconciling_forgets_the_gone_and_learns_the_new() {
    let (service, engine, store) = farm(20, 100_000).await;
    store.set_setup("gone", &Setup::Ready).await.unwrap();
    engine.add_running("adopted");
    service.tracker.reconcile().await.unwrap();
    let records = store.records().await.unwrap();
    assert!(!records.contains_key("gone"), "{:?}", records.keys());
    assert!(records.contains_key("adopted"), "{:?}", records.keys());
}

#[tokio::test]
async fn an_out_of_memory_event_shows_on_the_worker_until_it_restarts() {
    let (service, engine, _) = farm(20, 100_000).await;
    service.create(named("hungry")).await.unwrap();
    let mut changes = service.changes();
    engine.send("hungry", "oom").await;
    changes.changed().await.unwrap();
    let worker = service.get("hungry").await.unwrap();
    assert!(worker.out_of_memory.is_some(), "{worker:?}");
    service.restart("hungry").await.unwrap();
    assert!(service.get("hungry").await.unwrap().out_of_memory.is_none());
}

#[test]
fn the_budget_says_how_much_is_free() {
    assert!(check_budget(6144, 2048, 8192).is_ok());
    let over = check_budget(7168, 2048, 8192).err().unwrap();
    assert_eq!(over.code(), "over_budget");
    let message = over.to_string();
    assert!(message.contains("asks for 2048 MiB"), "{message}");
    assert!(
        message.contains("1024 MiB of 8192 MiB are free"),
        "{message}"
    );
    // More given than the budget (it was lowered): none free, not a negative number.
    let lowered = check_budget(9000, 256, 8192).err().unwrap().to_string();
    assert!(lowered.contains(" 0 MiB of 8192"), "{lowered}");
}

#[test]
fn room_is_reserved_for_creations_under_way() {
    let room = Room::default();
    room.seen(3);
    let first = room.reserve(5).unwrap();
    let second = room.reserve(5).unwrap();
    let full = room.reserve(5).err().unwrap();
    assert_eq!(full.code(), "limit_reached");
    // A creation that ends (made or failed) gives its place back.
    drop(first);
    let third = room.reserve(5).unwrap();
    drop((second, third));
    room.seen(5);
    assert!(room.reserve(5).is_err());
}

#[tokio::test]
async fn each_operation_asks_the_engine_little() {
    let (service, engine, _) = farm(20, 100_000).await;
    let calls = |what: &str, most: usize| {
        let made = engine.take_calls();
        assert!(made.len() <= most, "{what}: {made:?}");
        made
    };
    service.create(named("a")).await.unwrap();
    // The image, the room and the budget (one list, under the lock), create, start.
    let create = calls("create", 4);
    assert_eq!(
        create,
        [
            "image_exists",
            "list_workers",
            "create_worker",
            "start_worker"
        ]
    );
    service.get("a").await.unwrap();
    calls("get", 1);
    service.restart("a").await.unwrap();
    calls("restart", 2);
    drop(service.logs("a", 10, false).await.unwrap());
    calls("logs", 2);
    for name in ["b", "c"] {
        service.create(named(name)).await.unwrap();
    }
    calls("creates", 8);
    let ids: Vec<String> = ["a", "b", "c"].map(str::to_owned).to_vec();
    let restart = BatchRequest {
        ids: ids.clone(),
        action: BatchAction::Restart,
    };
    assert!(service.batch(&restart).await.unwrap().iter().all(|r| r.ok));
    calls("a batch of 3 restarts", 4);
    service.delete("a").await.unwrap();
    calls("delete", 2);
    let delete = BatchRequest {
        ids: ids[1..].to_vec(),
        action: BatchAction::Delete,
    };
    assert!(service.batch(&delete).await.unwrap().iter().all(|r| r.ok));
    calls("a batch of 2 deletes", 3);
}

#[tokio::test]
async fn open_pages_share_one_list_per_change() {
    let (service, engine, _) = farm(20, 100_000).await;
    service.create(named("a")).await.unwrap();
    let feed = WorkersFeed::start(&service);
    let mut pages: Vec<_> = (0..5).map(|_| feed.subscribe()).collect();
    engine.take_calls();
    engine.send("a", "die").await;
    for page in &mut pages {
        page.changed().await.unwrap();
        let pushed = page.borrow_and_update().clone();
        assert!(pushed.contains(r#""id":"a""#), "{pushed}");
    }
    let lists = engine
        .take_calls()
        .iter()
        .filter(|c| **c == "list_workers")
        .count();
    assert_eq!(lists, 1, "five pages, one change, one list");
}
