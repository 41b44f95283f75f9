//! Blocks, mutes, reports, and account deletion cascading through the social layer.
use crate::helpers::spawn_app;
use crate::social_helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_block_hides_both_ways_and_stops_interaction() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;
    act(&app, &ann, "follow", "bob").await;
    act(&app, &bob, "follow", "ann").await;
    let ann_post = post_status(&app, &ann, "ann speaks").await;
    let bob_post = post_status(&app, &bob, "bob speaks").await;
    post_status(&app, &cat, "cat speaks").await;
    post(
        &app,
        &format!(
            "/api/v1/statuses/{}/favourite",
            ann_post["id"].as_str().expect("id")
        ),
        Some(&bob.token),
        json!(null),
    )
    .await
    .ok(200);

    let blocked = act(&app, &ann, "block", "bob").await;
    assert_eq!(blocked["relationship"]["blocking"], true);
    assert_eq!(
        blocked["relationship"]["following"], false,
        "a block ends follows both ways"
    );
    assert_eq!(blocked["relationship"]["followed_by"], false);
    assert_eq!(
        act(&app, &ann, "block", "bob").await["relationship"]["blocking"],
        true,
        "idempotent"
    );

    // Gone from every list, both ways.
    for (viewer, path, hidden) in [
        (&ann, "/api/v1/timelines/home", "bob speaks"),
        (&ann, "/api/v1/timelines/public", "bob speaks"),
        (&bob, "/api/v1/timelines/home", "ann speaks"),
        (&bob, "/api/v1/timelines/public", "ann speaks"),
    ] {
        let list = texts(&get(&app, path, Some(&viewer.token)).await.ok(200));
        assert!(
            !list.contains(&hidden.to_owned()),
            "{} sees {hidden:?} in {path}: {list:?}",
            viewer.username
        );
        assert!(list.contains(&"cat speaks".to_owned()) || path.ends_with("home"));
    }
    let ann_notes = get(&app, "/api/v1/notifications", Some(&ann.token))
        .await
        .ok(200);
    assert!(
        ann_notes
            .as_array()
            .expect("array")
            .iter()
            .all(|n| n["account"]["username"] != "bob"),
        "{ann_notes}"
    );
    get(
        &app,
        &format!("/api/v1/statuses/{}", ann_post["id"].as_str().expect("id")),
        Some(&bob.token),
    )
    .await
    .error(404, "status_not_found");
    get(
        &app,
        &format!("/api/v1/statuses/{}", bob_post["id"].as_str().expect("id")),
        Some(&ann.token),
    )
    .await
    .error(404, "status_not_found");
    get(&app, "/api/v1/accounts/ann/statuses", Some(&bob.token))
        .await
        .error(404, "not_found");
    let rock = ann_post["account"]["rock"]["id"]
        .as_str()
        .expect("rock id")
        .to_owned();
    let members = ids(&get(
        &app,
        &format!("/api/v1/rocks/{rock}/members"),
        Some(&bob.token),
    )
    .await
    .ok(200));
    assert!(
        !members.contains(&ann.id.to_string()),
        "the blocker is not listed for bob"
    );
    assert!(members.contains(&cat.id.to_string()));

    // The blocked cannot interact.
    post(
        &app,
        "/api/v1/accounts/ann/follow",
        Some(&bob.token),
        json!(null),
    )
    .await
    .error(404, "not_found");
    post(
        &app,
        &format!(
            "/api/v1/statuses/{}/favourite",
            ann_post["id"].as_str().expect("id")
        ),
        Some(&bob.token),
        json!(null),
    )
    .await
    .error(404, "status_not_found");
    post(
        &app,
        "/api/v1/statuses",
        Some(&bob.token),
        json!({ "text": "sneaky", "in_reply_to_id": ann_post["id"] }),
    )
    .await
    .error(422, "reply_target_not_found");
    let mention = post_status(&app, &bob, "hey @ann").await;
    assert_eq!(
        mention["mentions"],
        json!([]),
        "a blocked account cannot mention"
    );
    post(
        &app,
        "/api/v1/accounts/bob/follow",
        Some(&ann.token),
        json!(null),
    )
    .await
    .error(403, "forbidden");

    // Unblocking restores visibility (not the follows).
    let unblocked = act(&app, &ann, "unblock", "bob").await;
    assert_eq!(unblocked["relationship"]["blocking"], false);
    let list = texts(
        &get(&app, "/api/v1/timelines/public", Some(&ann.token))
            .await
            .ok(200),
    );
    assert!(list.contains(&"bob speaks".to_owned()));
    let home = texts(
        &get(&app, "/api/v1/timelines/home", Some(&ann.token))
            .await
            .ok(200),
    );
    assert!(!home.contains(&"bob speaks".to_owned()));
    post(
        &app,
        "/api/v1/accounts/ann/block",
        Some(&ann.token),
        json!(null),
    )
    .await
    .error(422, "self_action");
}

#[tokio::test]
async fn a_mute_hides_the_account_from_the_muters_timelines_only() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    act(&app, &ann, "follow", "bob").await;
    post_status(&app, &bob, "bob speaks").await;
    let muted = act(&app, &ann, "mute", "bob").await;
    assert_eq!(muted["relationship"]["muting"], true);
    assert_eq!(
        muted["relationship"]["following"], true,
        "a mute keeps the follow"
    );
    for path in ["/api/v1/timelines/home", "/api/v1/timelines/public"] {
        assert!(
            texts(&get(&app, path, Some(&ann.token)).await.ok(200)).is_empty(),
            "{path}"
        );
    }
    post_status(&app, &bob, "@ann are you there?").await;
    assert_eq!(
        get(&app, "/api/v1/notifications", Some(&ann.token))
            .await
            .ok(200),
        json!([])
    );
    // Bob still sees Ann, and the profile is still reachable.
    post_status(&app, &ann, "ann speaks").await;
    assert_eq!(
        texts(
            &get(&app, "/api/v1/timelines/public", Some(&bob.token))
                .await
                .ok(200)
        )
        .len(),
        3
    );
    assert_eq!(
        texts(
            &get(&app, "/api/v1/accounts/bob/statuses", Some(&ann.token))
                .await
                .ok(200)
        )
        .len(),
        2
    );
    act(&app, &ann, "unmute", "bob").await;
    assert_eq!(
        texts(
            &get(&app, "/api/v1/timelines/home", Some(&ann.token))
                .await
                .ok(200)
        )
        .len(),
        3
    );
}

#[tokio::test]
async fn reports_are_filed_and_validated() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let bad = post_status(&app, &bob, "something nasty").await;
    let mine = post_status(&app, &ann, "mine").await;
    let report = post(
        &app,
        "/api/v1/reports",
        Some(&ann.token),
        json!({ "account": "bob", "status_id": bad["id"], "comment": "spam" }),
    )
    .await
    .ok(201);
    assert_eq!(report["account_id"], json!(bob.id.to_string()));
    assert_eq!(report["status_id"], bad["id"]);
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reports WHERE account_id = $1 AND target_account_id = $2",
    )
    .bind(ann.id)
    .bind(bob.id)
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(stored, 1);
    post(
        &app,
        "/api/v1/reports",
        Some(&ann.token),
        json!({ "account": "bob", "status_id": mine["id"] }),
    )
    .await
    .error(422, "status_not_found");
    post(
        &app,
        "/api/v1/reports",
        Some(&ann.token),
        json!({ "account": "nobody" }),
    )
    .await
    .error(404, "not_found");
    post(
        &app,
        "/api/v1/reports",
        Some(&ann.token),
        json!({ "account": "ann" }),
    )
    .await
    .error(422, "self_action");
    post(
        &app,
        "/api/v1/reports",
        Some(&ann.token),
        json!({ "account": "bob", "comment": "x".repeat(1001) }),
    )
    .await
    .error(422, "comment_too_long");
    post(&app, "/api/v1/reports", None, json!({ "account": "bob" }))
        .await
        .error(401, "unauthorized");

    // By id (number or string); a username made of digits is still a username.
    for account_id in [json!(bob.id), json!(bob.id.to_string())] {
        let by_id = post(
            &app,
            "/api/v1/reports",
            Some(&ann.token),
            json!({ "account_id": account_id }),
        )
        .await
        .ok(201);
        assert_eq!(by_id["account_id"], json!(bob.id.to_string()));
    }
    let digits = member(&app, "12345").await;
    let by_name = post(
        &app,
        "/api/v1/reports",
        Some(&ann.token),
        json!({ "account": "12345" }),
    )
    .await
    .ok(201);
    assert_eq!(by_name["account_id"], json!(digits.id.to_string()));
    for (body, status, code) in [
        (json!({}), 400, "missing_field"),
        (
            json!({ "account": "bob", "account_id": bob.id }),
            422,
            "invalid_field",
        ),
        (json!({ "account_id": "bob" }), 422, "invalid_field"),
        (json!({ "account_id": 999_999_999 }), 404, "not_found"),
    ] {
        post(&app, "/api/v1/reports", Some(&ann.token), body)
            .await
            .error(status, code);
    }
}

#[tokio::test]
async fn deleting_an_account_removes_its_social_traces() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;
    act(&app, &bob, "follow", "ann").await;
    act(&app, &ann, "follow", "bob").await;
    act(&app, &cat, "follow", "bob").await;
    let ann_post = post_status(&app, &ann, "ann's post").await;
    let bob_reply = reply_to(&app, &bob, &ann_post, "bob replies @cat").await;
    reply_to(&app, &ann, &bob_reply, "ann replies back").await;
    post(
        &app,
        &format!(
            "/api/v1/statuses/{}/favourite",
            bob_reply["id"].as_str().expect("id")
        ),
        Some(&ann.token),
        json!(null),
    )
    .await
    .ok(200);
    let rock = ann_post["account"]["rock"]["id"]
        .as_str()
        .expect("rock id")
        .to_owned();
    post(
        &app,
        &format!("/api/v1/rocks/{rock}/names"),
        Some(&bob.token),
        json!({ "name": "Bob's rock" }),
    )
    .await
    .ok(200);
    post(
        &app,
        "/api/v1/reports",
        Some(&bob.token),
        json!({ "account": "cat" }),
    )
    .await
    .ok(201);

    let gone = app
        .client
        .delete(app.url("/api/v1/accounts/me"))
        .bearer_auth(&bob.token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(gone.status(), 204);

    let public = texts(
        &get(&app, "/api/v1/timelines/public", Some(&ann.token))
            .await
            .ok(200),
    );
    assert_eq!(public, vec!["ann replies back", "ann's post"]);
    let ann_seen = get(&app, "/api/v1/accounts/ann/relationship", None)
        .await
        .ok(200);
    assert_eq!(
        (
            ann_seen["followers_count"].as_i64(),
            ann_seen["following_count"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let post_now = get(
        &app,
        &format!("/api/v1/statuses/{}", ann_post["id"].as_str().expect("id")),
        None,
    )
    .await
    .ok(200);
    assert_eq!(post_now["replies_count"], 0);
    assert!(get(&app, "/api/v1/notifications", Some(&ann.token))
        .await
        .ok(200)
        .as_array()
        .is_some_and(|a| a.is_empty()));
    assert!(get(&app, "/api/v1/notifications", Some(&cat.token))
        .await
        .ok(200)
        .as_array()
        .is_some_and(|a| a.is_empty()));
    for (table, column) in [
        ("statuses", "account_id"),
        ("follows", "follower_id"),
        ("follows", "followee_id"),
        ("favourites", "account_id"),
        ("status_mentions", "account_id"),
        ("notifications", "account_id"),
        ("notifications", "from_account_id"),
        ("reports", "account_id"),
        ("rock_name_votes", "account_id"),
        ("account_stats", "account_id"),
        ("status_idempotency_keys", "account_id"),
    ] {
        let left: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {column} = $1"))
                .bind(bob.id)
                .fetch_one(&app.db)
                .await
                .expect("count rows");
        assert_eq!(
            left, 0,
            "{table}.{column} still holds rows of the deleted account"
        );
    }
}
