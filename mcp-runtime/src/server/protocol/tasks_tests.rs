//! The tasks registry, its questions and its methods.

use super::*;

fn tasks(max: usize) -> Tasks {
    Tasks::new(
        TaskConfig {
            max,
            ..TaskConfig::default()
        },
        Arc::new(Listeners::default()),
    )
}

#[test]
fn dates_are_iso_8601() {
    assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    let t = UNIX_EPOCH + Duration::from_millis(1_785_234_600_123);
    assert_eq!(iso8601(t), "2026-07-28T10:30:00.123Z");
    let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
}

#[test]
fn tasks_belong_to_their_caller_and_are_bounded() {
    let tasks = tasks(2);
    let caps = ClientCapabilities::default();
    let a = tasks
        .create(Some("ann".into()), caps)
        .expect("id")
        .expect("room");
    // `<replica>.<128 random bits>`: this process's instance in hex by default.
    let (replica, random) = a.id.split_once('.').expect("a replica prefix");
    assert_eq!((replica.len(), random.len()), (16, 22), "{}", a.id);
    assert_eq!(replica, tasks.replica());
    assert!(tasks.get(&a.id, Some("ann")).is_ok());
    let other = tasks.get(&a.id, Some("bob")).expect_err("not bob's");
    let never = tasks.get("nope", Some("bob")).expect_err("unknown");
    assert_eq!(
        other.message.replace(&a.id, "ID"),
        never.message.replace("nope", "ID"),
        "another caller's task looks like no task"
    );
    assert!(tasks.get(&a.id, None).is_err());
    tasks.create(None, caps).expect("id").expect("room");
    assert!(tasks.create(None, caps).expect("id").is_none(), "full");
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        tasks.owned(&[a.id.clone(), "x".into()], Some("ann")),
        vec![a.id.clone()]
    );
}

#[test]
fn questions_wait_until_answered_and_keys_are_never_reused() {
    let tasks = tasks(10);
    let task = tasks
        .create(None, ClientCapabilities::default())
        .expect("id")
        .expect("room");
    let status = |t: &Task| t.detailed()["status"].clone();
    assert_eq!(status(&task), "working");
    let (_, mut first) = task
        .ask(None, "elicitation/create", json!({}))
        .expect("open");
    let (_, mut second) = task
        .ask(Some("name"), "elicitation/create", json!({}))
        .expect("open");
    assert_eq!(status(&task), "input_required");
    let keys: Vec<String> = task.detailed()["inputRequests"]
        .as_object()
        .expect("map")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["elicitation-1", "name"]);
    let mut answers = Map::new();
    answers.insert("elicitation-1".into(), json!({"action": "accept"}));
    answers.insert("unknown".into(), json!({}));
    task.answer(&answers);
    assert_eq!(first.try_recv().expect("answered")["action"], "accept");
    assert!(second.try_recv().is_err(), "still waiting");
    assert_eq!(status(&task), "input_required", "one question is left");
    answers.clear();
    answers.insert("name".into(), json!({"action": "decline"}));
    task.answer(&answers);
    assert_eq!(status(&task), "working");
    let again = task.detailed();
    assert!(again.get("inputRequests").is_none());
    let (third, _rx) = task
        .ask(Some("name"), "elicitation/create", json!({}))
        .expect("open");
    assert_eq!(third, "name-3", "an answered key is not issued again");
    task.withdraw(&third);
    assert_eq!(status(&task), "working");
    task.finish(Status::Completed(json!({"content": []})));
    let done = task.detailed();
    assert_eq!(done["status"], "completed");
    assert!(done.get("inputRequests").is_none(), "{done:?}");
    task.finish(Status::Cancelled);
    assert_eq!(status(&task), "completed", "terminal stays terminal");
    let created = String::from_utf8(task.created_result().to_vec()).expect("utf8");
    assert!(
        created.starts_with(r#"{"resultType":"task","#) && !created.contains("result\":"),
        "{created}"
    );
}

#[test]
fn methods_need_the_extension_and_a_known_task() {
    let tasks = tasks(10);
    let Reply::Err(e) = handle(&tasks, "tasks/get", &json!({"taskId": "x"}), false, None) else {
        panic!("refused")
    };
    assert_eq!(e.code, crate::server::modern::MISSING_CAPABILITY);
    assert_eq!(
        e.data,
        Some(json!({"requiredCapabilities": {"extensions": {EXTENSION: {}}}}))
    );
    let Reply::Err(e) = handle(&tasks, "tasks/cancel", &json!({"taskId": "x"}), true, None) else {
        panic!("refused")
    };
    assert_eq!(e.code, crate::server::jsonrpc::code::INVALID_PARAMS);
    let task = tasks
        .create(None, ClientCapabilities::default())
        .expect("id")
        .expect("room");
    let params = json!({"taskId": task.id});
    assert!(matches!(
        handle(&tasks, "tasks/cancel", &params, true, None),
        Reply::Ok(_)
    ));
    assert!(task.cancel.is_cancelled());
    assert_eq!(task.detailed()["status"], "cancelled");
    assert!(
        matches!(
            handle(&tasks, "tasks/cancel", &params, true, None),
            Reply::Ok(_)
        ),
        "idempotent"
    );
    let Reply::Err(e) = handle(&tasks, "tasks/update", &params, true, None) else {
        panic!("refused")
    };
    assert!(e.message.contains("inputResponses"), "{}", e.message);
}
