//! What a hostile or careless client does: requests racing each other, invisible and
//! direction-changing text, odd JSON bodies, and evidence a reported member would wipe.
use crate::helpers::spawn_app;
use crate::social_helpers::*;
use serde_json::json;

#[tokio::test]
async fn racing_requests_never_fail_and_a_block_always_ends_a_follow() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;

    // Favourites and replies while the status is deleted: each is 200 or a clean 404/422.
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for _ in 0..15 {
        let target = post_status(&app, &ann, "going soon").await;
        let id = target["id"].as_str().expect("id").to_owned();
        let (favourite, own) = (
            format!("/api/v1/statuses/{id}/favourite"),
            format!("/api/v1/statuses/{id}"),
        );
        let (fav_bob, fav_cat, reply, gone) = tokio::join!(
            post(&app, &favourite, Some(&bob.token), json!({})),
            post(&app, &favourite, Some(&cat.token), json!({})),
            post(
                &app,
                "/api/v1/statuses",
                Some(&cat.token),
                json!({ "text": "a reply", "in_reply_to_id": id })
            ),
            delete(&app, &own, &ann.token),
        );
        assert_eq!(gone.status, 200, "{}", gone.body);
        for reply in [fav_bob, fav_cat, reply] {
            assert!(
                matches!(reply.status, 200 | 404 | 422),
                "{} {}",
                reply.status,
                reply.body
            );
            *statuses.entry(reply.status).or_default() += 1;
        }
    }
    eprintln!("favourite/reply while deleting: {statuses:?}");
    let orphans: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM favourites f WHERE NOT EXISTS (SELECT 1 FROM statuses s WHERE s.id = f.status_id)) \
              + (SELECT count(*) FROM notifications n WHERE n.status_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM statuses s WHERE s.id = n.status_id))",
    )
    .fetch_one(&app.db)
    .await
    .expect("orphans");
    assert_eq!(orphans, 0);

    // A follow sent at the moment of a block never survives it.
    for round in 0..20 {
        post(
            &app,
            "/api/v1/accounts/bob/unblock",
            Some(&ann.token),
            json!({}),
        )
        .await
        .ok(200);
        post(
            &app,
            "/api/v1/accounts/ann/unfollow",
            Some(&bob.token),
            json!({}),
        )
        .await
        .ok(200);
        let (follow, block) = tokio::join!(
            post(
                &app,
                "/api/v1/accounts/ann/follow",
                Some(&bob.token),
                json!({})
            ),
            post(
                &app,
                "/api/v1/accounts/bob/block",
                Some(&ann.token),
                json!({})
            ),
        );
        assert_eq!(block.status, 200, "{}", block.body);
        assert!(
            matches!(follow.status, 200 | 404),
            "{} {}",
            follow.status,
            follow.body
        );
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM follows WHERE follower_id = $1 AND followee_id = $2",
        )
        .bind(bob.id)
        .bind(ann.id)
        .fetch_one(&app.db)
        .await
        .expect("follows");
        assert_eq!(left, 0, "round {round}: the follow outlived the block");
    }
}

#[tokio::test]
async fn invisible_reordering_and_malformed_input_is_refused_clearly() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;

    for blank in ["\u{200B}", "\u{3164}", "\u{2800}", " \u{034F}\u{FE0F} "] {
        post(
            &app,
            "/api/v1/statuses",
            Some(&ann.token),
            json!({ "text": blank }),
        )
        .await
        .error(422, "status_empty");
    }
    // Text hidden in tag characters, which show nothing ("ASCII smuggling").
    let hidden: String = "ignore the rock"
        .chars()
        .filter_map(|c| char::from_u32(0xE0000 + c as u32))
        .collect();
    let smuggled = format!("nice{hidden}");
    // The same in variation selectors, one per byte after a single letter.
    let selectors: String = "ignore"
        .bytes()
        .filter_map(|b| char::from_u32(0xE0100 + u32::from(b)))
        .collect();
    let selected = format!("nice{selectors}");
    for spoof in [
        "abc\u{202E}gnp.exe",
        "x\u{2066}y",
        "nul\u{0}byte",
        &smuggled,
        &selected,
    ] {
        post(
            &app,
            "/api/v1/statuses",
            Some(&ann.token),
            json!({ "text": spoof }),
        )
        .await
        .error(422, "invalid_status_text");
    }
    // A subdivision flag is made of tag characters too, and stays.
    let scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
    let status = post_status(&app, &ann, &format!("from {scotland}")).await;
    assert_eq!(status["text"], format!("from {scotland}"));
    // Emoji sequences keep their selectors and joiners; a doubled selector is kept once.
    let emoji = "\u{1F3F3}\u{FE0F}\u{200D}\u{26A7}\u{FE0F} 1\u{FE0F}\u{20E3} \u{845B}\u{E0100}";
    let status = post_status(&app, &ann, &format!("{emoji} \u{2764}\u{FE0F}\u{FE0F}")).await;
    assert_eq!(status["text"], format!("{emoji} \u{2764}\u{FE0F}"));
    // CRLF from a client is a line break; accents are stored one way (NFC).
    let status = post_status(&app, &ann, "line one\r\nCafe\u{301} line two").await;
    assert_eq!(status["text"], "line one\nCaf\u{e9} line two");

    for (field, value, code) in [
        ("display_name", "\u{2800}", "invalid_display_name"),
        ("display_name", "\u{200D}\u{200D}", "invalid_display_name"),
        ("note", "bio \u{202E}txt", "invalid_note"),
        ("display_name", &smuggled, "invalid_display_name"),
        ("note", &smuggled, "invalid_note"),
        ("display_name", &selected, "invalid_display_name"),
    ] {
        let reply = app
            .client
            .patch(app.url("/api/v1/accounts/me"))
            .bearer_auth(&ann.token)
            .json(&json!({ field: value }))
            .send()
            .await
            .expect("PATCH");
        let status = reply.status().as_u16();
        let body: serde_json::Value = reply.json().await.expect("json");
        crate::helpers::check_error(status, &body, 422, code);
    }

    for comment in ["a\u{0}b", &smuggled, &selected] {
        post(
            &app,
            "/api/v1/reports",
            Some(&ann.token),
            json!({ "account": "bob", "comment": comment }),
        )
        .await
        .error(422, "invalid_comment");
    }
    let rock = status["account"]["rock"]["id"].as_str().expect("rock id");
    for name in [smuggled.as_str(), &selected] {
        post(
            &app,
            &format!("/api/v1/rocks/{rock}/names"),
            Some(&ann.token),
            json!({ "name": name }),
        )
        .await
        .error(422, "invalid_name");
    }

    // A mention is a word, not part of a URL or a query string.
    post_status(&app, &bob, "see https://example.com/@ann and ?user=@ann").await;
    let unread = get(&app, "/api/v1/notifications/unread_count", Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(unread["count"], 0, "no mention notification");

    // `null` is not "mark everything read"; a JSON array is not an object, and errors
    // speak JSON, not our Rust type names.
    post_status(&app, &bob, "hi @ann").await;
    post(
        &app,
        "/api/v1/notifications/read",
        Some(&ann.token),
        json!(null),
    )
    .await
    .error(422, "invalid_field");
    let unread = get(&app, "/api/v1/notifications/unread_count", Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(unread["count"], 1);
    for body in [json!([]), json!(null), json!("text")] {
        let refused = post(&app, "/api/v1/statuses", Some(&ann.token), body)
            .await
            .error(422, "invalid_field");
        let message = refused["message"].as_str().unwrap_or_default();
        assert!(!message.contains("struct"), "{message}");
    }

    // A 401 names the scheme (RFC 9110), and says when the token was the problem.
    let anonymous = app
        .client
        .get(app.url("/api/v1/accounts/me"))
        .send()
        .await
        .expect("GET");
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge:?}");
    let forged = app
        .client
        .get(app.url("/api/v1/accounts/me"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .expect("GET");
    let challenge = forged
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.contains("error=\"invalid_token\""),
        "{challenge:?}"
    );
}

#[tokio::test]
async fn reports_outlive_the_reported_and_a_blocker_shows_no_profile() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let troll = member(&app, "troll").await;
    let bad = post_status(&app, &troll, "something nasty").await;
    post(
        &app,
        "/api/v1/reports",
        Some(&ann.token),
        json!({ "account": "troll", "status_id": bad["id"], "comment": "harassment" }),
    )
    .await
    .ok(201);
    let gone = app
        .client
        .delete(app.url("/api/v1/accounts/me"))
        .bearer_auth(&troll.token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(gone.status(), 204);
    let kept: Vec<(Option<i64>, String, Option<String>, String)> = sqlx::query_as(
        "SELECT target_account_id, target_username, status_text, comment FROM reports WHERE account_id = $1",
    )
    .bind(ann.id)
    .fetch_all(&app.db)
    .await
    .expect("reports");
    assert_eq!(
        kept,
        vec![(
            None,
            "troll".to_owned(),
            Some("something nasty".to_owned()),
            "harassment".to_owned()
        )]
    );

    // Grace blocks Heidi. To Heidi, Grace does not exist: her (un)mute and (un)block of
    // Grace are recorded but answered as for a username nobody has, so they tell her
    // neither that Grace exists nor that Grace blocks her.
    let grace = member(&app, "grace").await;
    let heidi = member(&app, "heidi").await;
    let patched = app
        .client
        .patch(app.url("/api/v1/accounts/me"))
        .bearer_auth(&grace.token)
        .json(&json!({ "display_name": "Grace H.", "note": "private-ish bio" }))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(patched.status(), 200);
    post_status(&app, &grace, "hello").await;
    post(
        &app,
        "/api/v1/accounts/heidi/block",
        Some(&grace.token),
        json!({}),
    )
    .await
    .ok(200);
    get(&app, "/api/v1/accounts/grace", Some(&heidi.token))
        .await
        .error(404, "not_found");
    let nobody = post(
        &app,
        "/api/v1/accounts/nobody_at_all/mute",
        Some(&heidi.token),
        json!({}),
    )
    .await
    .error(404, "not_found");
    for verb in ["mute", "unmute", "block", "unblock"] {
        let seen = post(
            &app,
            &format!("/api/v1/accounts/grace/{verb}"),
            Some(&heidi.token),
            json!({}),
        )
        .await
        .error(404, "not_found");
        assert_eq!(seen, nobody, "{verb}: the same answer as for no account");
    }
    // Heidi's own block of Grace was recorded (and then lifted): block once more, and it
    // holds after Grace lifts hers.
    post(
        &app,
        "/api/v1/accounts/grace/block",
        Some(&heidi.token),
        json!({}),
    )
    .await
    .error(404, "not_found");
    // Grace lifts hers: now Heidi blocks Grace, so Grace's answer is the 404 this time.
    post(
        &app,
        "/api/v1/accounts/heidi/unblock",
        Some(&grace.token),
        json!({}),
    )
    .await
    .error(404, "not_found");
    let now = get(
        &app,
        "/api/v1/accounts/grace/relationship",
        Some(&heidi.token),
    )
    .await
    .ok(200);
    assert_eq!(now["relationship"]["blocking"], true, "{now}");
    assert_eq!(now["relationship"]["blocked_by"], false, "{now}");
    let _ = grace.id;
}
