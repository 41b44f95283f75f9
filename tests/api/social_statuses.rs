//! Statuses: post, read, validate, idempotency, reply threads, favourites, delete.
use crate::helpers::spawn_app;
use crate::social_helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_status_is_posted_read_and_validated() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;

    let status = post_status(&app, &ann, "  Hello, rocks!  ").await;
    assert_eq!(status["text"], "Hello, rocks!");
    assert_eq!(status["account"]["username"], "ann");
    assert!(
        status["account"]["rock"]["id"].is_string(),
        "the author comes with a rock: {status}"
    );
    assert_eq!(status["replies_count"], 0);
    assert_eq!(status["favourites_count"], 0);
    assert_eq!(status["favourited"], false);
    assert_eq!(status["account"]["statuses_count"], 1);

    let id = status["id"].as_str().expect("id");
    let read = get(&app, &format!("/api/v1/statuses/{id}"), None)
        .await
        .ok(200);
    assert_eq!(read["text"], "Hello, rocks!");
    assert!(
        read.get("favourited").is_none(),
        "signed out: no viewer flags"
    );

    // 500 characters (not bytes) is the limit.
    let max = "é".repeat(500);
    let long = post(
        &app,
        "/api/v1/statuses",
        Some(&ann.token),
        json!({ "text": max }),
    )
    .await
    .ok(200);
    assert_eq!(long["text"].as_str().map(|t| t.chars().count()), Some(500));
    post(
        &app,
        "/api/v1/statuses",
        Some(&ann.token),
        json!({ "text": "é".repeat(501) }),
    )
    .await
    .error(422, "status_too_long");
    post(
        &app,
        "/api/v1/statuses",
        Some(&ann.token),
        json!({ "text": "   " }),
    )
    .await
    .error(422, "status_empty");
    post(&app, "/api/v1/statuses", Some(&ann.token), json!({}))
        .await
        .error(400, "missing_field");
    post(&app, "/api/v1/statuses", None, json!({ "text": "hi" }))
        .await
        .error(401, "unauthorized");
    post(
        &app,
        "/api/v1/statuses",
        Some(&ann.token),
        json!({ "text": "hi", "in_reply_to_id": "999" }),
    )
    .await
    .error(422, "reply_target_not_found");
    post(
        &app,
        "/api/v1/statuses",
        Some(&ann.token),
        json!({ "text": "hi", "media_ids": ["12345"] }),
    )
    .await
    .error(422, "media_not_found");
    get(&app, "/api/v1/statuses/123456789", None)
        .await
        .error(404, "status_not_found");
    get(&app, "/api/v1/statuses/not-a-number", None)
        .await
        .error(404, "status_not_found");
}

#[tokio::test]
async fn status_ids_are_time_ordered() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let mut previous: i64 = 0;
    for n in 0..20 {
        let status = post_status(&app, &ann, &format!("post {n}")).await;
        let id: i64 = status["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("numeric id");
        assert!(id > previous, "ids increase: {id} after {previous}");
        // The high bits are the creation time in milliseconds.
        let created = chrono::DateTime::parse_from_rfc3339(
            status["created_at"].as_str().expect("created_at"),
        )
        .expect("timestamp")
        .timestamp_millis();
        assert!(
            ((id >> 16) - created).abs() < 5_000,
            "id {id} encodes its time ({created} ms)"
        );
        previous = id;
    }
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_returns_the_first_status() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let send = |token: String, key: &'static str, text: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&json!({ "text": text }));
        async move {
            let response = request.send().await.expect("POST");
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.expect("json")
        }
    };
    let first = send(ann.token.clone(), "key-1", "only once").await;
    let again = send(ann.token.clone(), "key-1", "only once").await;
    assert_eq!(
        first["id"], again["id"],
        "the retry returns the same status"
    );
    // Concurrent retries too.
    let (a, b) = tokio::join!(
        send(ann.token.clone(), "key-2", "racing"),
        send(ann.token.clone(), "key-2", "racing")
    );
    assert_eq!(a["id"], b["id"], "concurrent retries return one status");
    // The key is per account, and a new key is a new status.
    let other = send(bob.token.clone(), "key-1", "bob's own").await;
    assert_ne!(other["id"], first["id"]);
    let fresh = send(ann.token.clone(), "key-3", "only once").await;
    assert_ne!(fresh["id"], first["id"]);
    // The same key for another post is a client bug, said as such (not the first post).
    let reused = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&ann.token)
        .header("Idempotency-Key", "key-1")
        .json(&json!({ "text": "something else" }))
        .send()
        .await
        .expect("POST");
    let status = reused.status().as_u16();
    let body: serde_json::Value = reused.json().await.expect("json");
    crate::helpers::check_error(status, &body, 422, "idempotency_key_reused");
    // A retry after the post was deleted does not bring it back.
    let doomed = send(ann.token.clone(), "key-4", "delete me").await;
    let id = doomed["id"].as_str().expect("id");
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/statuses/{id}")))
        .bearer_auth(&ann.token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status(), 200);
    for _ in 0..2 {
        let retried = app
            .client
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&ann.token)
            .header("Idempotency-Key", "key-4")
            .json(&json!({ "text": "delete me" }))
            .send()
            .await
            .expect("POST");
        let status = retried.status().as_u16();
        let body: serde_json::Value = retried.json().await.expect("json");
        crate::helpers::check_error(status, &body, 410, "status_deleted");
    }
    // Keys are forgotten after a day.
    sqlx::query("UPDATE status_idempotency_keys SET created_at = now() - interval '2 days' WHERE key = 'key-3'")
        .execute(&app.db)
        .await
        .expect("age the key");
    let purged = rockstar::db::statuses::purge_idempotency_keys(
        &app.db,
        std::time::Duration::from_secs(86_400),
    )
    .await
    .expect("purge");
    assert_eq!(purged, 1);

    let timeline = get(&app, "/api/v1/accounts/ann/statuses", None)
        .await
        .ok(200);
    assert_eq!(
        texts(&timeline),
        vec!["only once", "racing", "only once"],
        "no duplicates were stored"
    );
}

#[tokio::test]
async fn replies_form_a_thread_with_ancestors_and_descendants() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;

    let root = post_status(&app, &ann, "root").await;
    let r1 = reply_to(&app, &bob, &root, "r1").await;
    let r1a = reply_to(&app, &cat, &r1, "r1a").await;
    reply_to(&app, &cat, &root, "r2").await;
    reply_to(&app, &ann, &r1a, "r1a1").await;
    assert_eq!(r1["in_reply_to_id"], root["id"]);
    assert_eq!(r1["in_reply_to_account_id"], json!(ann.id.to_string()));

    let root_now = get(
        &app,
        &format!("/api/v1/statuses/{}", root["id"].as_str().expect("id")),
        None,
    )
    .await
    .ok(200);
    assert_eq!(root_now["replies_count"], 2, "direct replies are counted");

    let context = get(
        &app,
        &format!(
            "/api/v1/statuses/{}/context",
            r1a["id"].as_str().expect("id")
        ),
        None,
    )
    .await
    .ok(200);
    assert_eq!(
        texts(&context["ancestors"]),
        vec!["root", "r1"],
        "ancestors oldest first"
    );
    assert_eq!(texts(&context["descendants"]), vec!["r1a1"]);

    let context = get(
        &app,
        &format!(
            "/api/v1/statuses/{}/context",
            root["id"].as_str().expect("id")
        ),
        None,
    )
    .await
    .ok(200);
    assert!(context["ancestors"]
        .as_array()
        .is_some_and(|a| a.is_empty()));
    assert_eq!(
        texts(&context["descendants"]),
        vec!["r1", "r1a", "r1a1", "r2"],
        "depth first, in posting order"
    );

    // Deleting a reply in the middle keeps its replies (they lose the link) and fixes the count.
    delete(
        &app,
        &format!("/api/v1/statuses/{}", r1["id"].as_str().expect("id")),
        &bob.token,
    )
    .await
    .ok(200);
    let root_now = get(
        &app,
        &format!("/api/v1/statuses/{}", root["id"].as_str().expect("id")),
        None,
    )
    .await
    .ok(200);
    assert_eq!(root_now["replies_count"], 1);
    let context = get(
        &app,
        &format!(
            "/api/v1/statuses/{}/context",
            root["id"].as_str().expect("id")
        ),
        None,
    )
    .await
    .ok(200);
    assert_eq!(texts(&context["descendants"]), vec!["r2"]);
    let orphan = get(
        &app,
        &format!("/api/v1/statuses/{}", r1a["id"].as_str().expect("id")),
        None,
    )
    .await
    .ok(200);
    assert!(orphan["in_reply_to_id"].is_null());
}

#[tokio::test]
async fn favourites_are_idempotent_and_counted() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;
    let status = post_status(&app, &ann, "like me").await;
    let id = status["id"].as_str().expect("id");

    for _ in 0..2 {
        let liked = post(
            &app,
            &format!("/api/v1/statuses/{id}/favourite"),
            Some(&bob.token),
            json!(null),
        )
        .await
        .ok(200);
        assert_eq!(liked["favourites_count"], 1, "twice is still one favourite");
        assert_eq!(liked["favourited"], true);
    }
    let liked = post(
        &app,
        &format!("/api/v1/statuses/{id}/favourite"),
        Some(&cat.token),
        json!(null),
    )
    .await
    .ok(200);
    assert_eq!(liked["favourites_count"], 2);
    let seen_by_ann = get(&app, &format!("/api/v1/statuses/{id}"), Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(seen_by_ann["favourited"], false);
    assert_eq!(seen_by_ann["favourites_count"], 2);

    for _ in 0..2 {
        let unliked = post(
            &app,
            &format!("/api/v1/statuses/{id}/unfavourite"),
            Some(&bob.token),
            json!(null),
        )
        .await
        .ok(200);
        assert_eq!(unliked["favourites_count"], 1);
        assert_eq!(unliked["favourited"], false);
    }
    post(
        &app,
        "/api/v1/statuses/42/favourite",
        Some(&bob.token),
        json!(null),
    )
    .await
    .error(404, "status_not_found");
}

#[tokio::test]
async fn only_the_author_deletes_a_status() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let status = post_status(&app, &ann, "mine").await;
    let path = format!("/api/v1/statuses/{}", status["id"].as_str().expect("id"));
    delete(&app, &path, &bob.token)
        .await
        .error(403, "forbidden");
    let deleted = delete(&app, &path, &ann.token).await.ok(200);
    assert_eq!(deleted["text"], "mine");
    get(&app, &path, None).await.error(404, "status_not_found");
    delete(&app, &path, &ann.token)
        .await
        .error(404, "status_not_found");
    let me = get(&app, "/api/v1/accounts/ann/relationship", Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(me["statuses_count"], 0);
}

#[tokio::test]
async fn the_openapi_document_lists_the_social_endpoints() {
    let app = spawn_app().await;
    let doc = get(&app, "/api/v1/openapi.json", None).await.ok(200);
    for path in [
        "/api/v1/statuses",
        "/api/v1/statuses/{id}/context",
        "/api/v1/timelines/home",
        "/api/v1/accounts/{username}/follow",
        "/api/v1/notifications",
        "/api/v1/reports",
        "/api/v1/media",
        "/api/v1/rocks/{id}/names",
        "/api/v1/rocks/{id}/members",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert!(
        doc["paths"].get("/api/v1/accounts").is_some(),
        "the server's paths are still there"
    );
    assert!(doc["components"]["schemas"].get("StatusView").is_some());
    // Every paged list documents the same query parameters.
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/accounts/{username}/statuses",
        "/api/v1/accounts/{username}/followers",
        "/api/v1/notifications",
        "/api/v1/rocks/{id}/members",
    ] {
        let params: Vec<&str> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        for name in ["max_id", "since_id", "min_id", "limit"] {
            assert!(
                params.contains(&name),
                "{path} documents {name}: {params:?}"
            );
        }
    }
    // The gallery is documented too, and pages by rock id instead.
    for path in ["/api/v1/rocks/{id}", "/media/rocks/{id}/{image}"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"].get("RockView").is_some());
    let rock_params: Vec<&str> = doc["paths"]["/api/v1/rocks"]["get"]["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(rock_params, vec!["after", "limit"]);
}

#[tokio::test]
async fn posting_and_uploading_are_rate_limited_per_account() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.rate_limit.post_per_minute = 1;
        s.rate_limit.post_burst = 2;
        s.rate_limit.media_per_minute = 1;
        s.rate_limit.media_burst = 1;
    })
    .await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let mut first_id = serde_json::Value::Null;
    for text in ["one", "two"] {
        let reply = app
            .client
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&ann.token)
            .header("Idempotency-Key", format!("key-{text}"))
            .json(&json!({ "text": text }))
            .send()
            .await
            .expect("post");
        assert_eq!(reply.status(), 200);
        let body: serde_json::Value = reply.json().await.expect("json");
        if text == "one" {
            first_id = body["id"].clone();
        }
    }
    // A malformed post does not spend the budget, and a retry of a post that was made is
    // answered even with the budget spent.
    post(
        &app,
        "/api/v1/statuses",
        Some(&ann.token),
        json!({ "text": "" }),
    )
    .await
    .error(422, "status_empty");
    let retry = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&ann.token)
        .header("Idempotency-Key", "key-one")
        .json(&json!({ "text": "one" }))
        .send()
        .await
        .expect("retry");
    assert_eq!(retry.status(), 200, "a retry is answered, not rate limited");
    let body: serde_json::Value = retry.json().await.expect("json");
    assert_eq!(body["id"], first_id);
    let limited = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&ann.token)
        .json(&json!({ "text": "three" }))
        .send()
        .await
        .expect("post");
    assert!(
        limited.headers().get("retry-after").is_some(),
        "Retry-After is set"
    );
    assert_eq!(limited.status(), 429);
    let body: serde_json::Value = limited.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited", "{body}");
    // The budget is ann's alone, and nothing she posted was lost.
    post(
        &app,
        "/api/v1/statuses",
        Some(&bob.token),
        json!({ "text": "bob's" }),
    )
    .await
    .ok(200);
    let mine = get(&app, "/api/v1/accounts/ann/statuses", Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(texts(&mine), ["two", "one"]);
    // A report is a write like a post and spends the same budget.
    post(
        &app,
        "/api/v1/reports",
        Some(&ann.token),
        json!({ "account": "bob", "comment": "spam" }),
    )
    .await
    .error(429, "rate_limited");

    // Uploads have their own budget: the second is refused before the body is read.
    let junk = || b"not an image".to_vec();
    let first = upload(&app, &ann.token, junk(), "image/jpeg").await;
    assert_ne!(first.status, 429, "the first upload is within the budget");
    upload(&app, &ann.token, junk(), "image/jpeg")
        .await
        .error(429, "rate_limited");
    let bobs = upload(&app, &bob.token, junk(), "image/jpeg").await;
    assert_ne!(bobs.status, 429, "bob's budget is his own");
}
