//! Notifications: follow, favourite, reply, mention; paging; unread count; mark read.
use crate::helpers::spawn_app;
use crate::social_helpers::*;
use serde_json::json;

fn kinds(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|n| {
            format!(
                "{}:{}",
                n["type"].as_str().unwrap_or("?"),
                n["account"]["username"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

#[tokio::test]
async fn follows_favourites_replies_and_mentions_notify() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;

    act(&app, &bob, "follow", "ann").await;
    act(&app, &bob, "unfollow", "ann").await;
    act(&app, &bob, "follow", "ann").await; // re-following notifies once
    let hello = post_status(&app, &ann, "hello").await;
    let hello_id = hello["id"].as_str().expect("id");
    post(
        &app,
        &format!("/api/v1/statuses/{hello_id}/favourite"),
        Some(&cat.token),
        json!(null),
    )
    .await
    .ok(200);
    let reply = reply_to(&app, &bob, &hello, "@ann hi! cc @Cat and @nobody_here").await;
    // The text stays plain; mentions are structured, and only of existing accounts.
    assert_eq!(reply["text"], "@ann hi! cc @Cat and @nobody_here");
    let mut mentioned: Vec<&str> = reply["mentions"]
        .as_array()
        .expect("mentions")
        .iter()
        .filter_map(|m| m["username"].as_str())
        .collect();
    mentioned.sort();
    assert_eq!(mentioned, vec!["ann", "cat"]);
    assert_eq!(reply["mentions"][0]["id"], json!(ann.id.to_string()));
    post_status(&app, &ann, "talking to myself @ann").await; // no self-notification

    let list = get(&app, "/api/v1/notifications", Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(
        kinds(&list),
        vec!["reply:bob", "favourite:cat", "follow:bob"],
        "the reply is not also a mention"
    );
    assert_eq!(list[0]["status"]["id"], reply["id"]);
    assert_eq!(list[1]["status"]["id"], hello["id"]);
    assert!(list[2]["status"].is_null());
    assert!(list
        .as_array()
        .expect("array")
        .iter()
        .all(|n| n["read"] == false));

    let cat_list = get(&app, "/api/v1/notifications", Some(&cat.token))
        .await
        .ok(200);
    assert_eq!(kinds(&cat_list), vec!["mention:bob"]);
    assert_eq!(
        cat_list[0]["status"]["text"],
        "@ann hi! cc @Cat and @nobody_here"
    );

    // Unread count and mark read.
    let unread = get(&app, "/api/v1/notifications/unread_count", Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(unread["count"], 3);
    let oldest_two = list[1]["id"].as_str().expect("id");
    // A body that is there but wrong is refused, and marks nothing.
    for (body, status, code) in [
        (json!({ "up_to_id": "abc" }), 422, "invalid_field"),
        (json!({ "up_to_id": -3 }), 422, "invalid_field"),
        (json!({ "upto_id": oldest_two }), 422, "invalid_field"),
    ] {
        post(&app, "/api/v1/notifications/read", Some(&ann.token), body)
            .await
            .error(status, code);
    }
    let raw = app
        .client
        .post(app.url("/api/v1/notifications/read"))
        .bearer_auth(&ann.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    assert_eq!(raw.status().as_u16(), 400);
    let raw: serde_json::Value = raw.json().await.expect("JSON error");
    assert_eq!(raw["error"], "invalid_json");
    let unread = get(&app, "/api/v1/notifications/unread_count", Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(unread["count"], 3, "nothing was marked by the bad requests");
    // The id as a number (or as Mastodon's string) marks up to it.
    let marked = post(
        &app,
        "/api/v1/notifications/read",
        Some(&ann.token),
        json!({ "up_to_id": oldest_two.parse::<i64>().expect("numeric id") }),
    )
    .await
    .ok(200);
    assert_eq!(marked, json!({ "marked": 2, "unread": 1 }));
    let marked = post(
        &app,
        "/api/v1/notifications/read",
        Some(&ann.token),
        json!({ "up_to_id": oldest_two }),
    )
    .await
    .ok(200);
    assert_eq!(marked, json!({ "marked": 0, "unread": 1 }));
    // No body at all marks everything.
    let all = app
        .client
        .post(app.url("/api/v1/notifications/read"))
        .bearer_auth(&ann.token)
        .send()
        .await
        .expect("POST");
    assert_eq!(all.status().as_u16(), 200);
    let marked: serde_json::Value = all.json().await.expect("JSON");
    assert_eq!(marked, json!({ "marked": 1, "unread": 0 }));
    let list = get(&app, "/api/v1/notifications", Some(&ann.token))
        .await
        .ok(200);
    assert!(list
        .as_array()
        .expect("array")
        .iter()
        .all(|n| n["read"] == true));
    get(&app, "/api/v1/notifications", None)
        .await
        .error(401, "unauthorized");

    // Paging: one per page reaches all three, newest first, no repeats.
    let pages = walk_pages(&app, "/api/v1/notifications?limit=1", Some(&ann.token)).await;
    let flat: Vec<String> = pages.concat();
    assert_eq!(flat, ids(&list));
}

#[tokio::test]
async fn deleting_a_status_removes_its_notifications() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let status = post_status(&app, &bob, "hey @ann").await;
    assert_eq!(
        get(&app, "/api/v1/notifications/unread_count", Some(&ann.token))
            .await
            .ok(200)["count"],
        1
    );
    delete(
        &app,
        &format!("/api/v1/statuses/{}", status["id"].as_str().expect("id")),
        &bob.token,
    )
    .await
    .ok(200);
    assert_eq!(
        get(&app, "/api/v1/notifications", Some(&ann.token))
            .await
            .ok(200),
        json!([])
    );
    assert_eq!(
        get(&app, "/api/v1/notifications/unread_count", Some(&ann.token))
            .await
            .ok(200)["count"],
        0
    );
}
