//! Follows, follower lists, relationship flags and counters.
use crate::helpers::spawn_app;
use crate::social_helpers::*;
use serde_json::json;

#[tokio::test]
async fn following_sets_flags_counts_and_lists() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;

    let bob_seen = act(&app, &ann, "follow", "Bob").await; // usernames are case-insensitive
    assert_eq!(bob_seen["username"], "bob");
    assert_eq!(bob_seen["relationship"]["following"], true);
    assert_eq!(bob_seen["relationship"]["followed_by"], false);
    assert_eq!(bob_seen["followers_count"], 1);
    // Following twice changes nothing.
    assert_eq!(act(&app, &ann, "follow", "bob").await["followers_count"], 1);
    act(&app, &cat, "follow", "bob").await;
    act(&app, &bob, "follow", "ann").await;

    let ann_seen_by_bob = get(&app, "/api/v1/accounts/ann/relationship", Some(&bob.token))
        .await
        .ok(200);
    assert_eq!(
        ann_seen_by_bob["relationship"],
        json!({"following": true, "followed_by": true, "blocking": false, "blocked_by": false, "muting": false})
    );
    assert_eq!(ann_seen_by_bob["following_count"], 1);
    assert_eq!(ann_seen_by_bob["followers_count"], 1);
    // The profile itself carries the same view.
    let profile = get(&app, "/api/v1/accounts/ann", Some(&bob.token))
        .await
        .ok(200);
    assert_eq!(profile["relationship"], ann_seen_by_bob["relationship"]);
    assert_eq!(profile["followers_count"], 1);
    assert!(profile["rock"]["id"].is_string());
    let signed_out = get(&app, "/api/v1/accounts/bob/relationship", None)
        .await
        .ok(200);
    assert!(signed_out.get("relationship").is_none());
    assert_eq!(signed_out["followers_count"], 2);
    assert_eq!(signed_out["following_count"], 1);

    let followers = get(&app, "/api/v1/accounts/bob/followers", Some(&ann.token))
        .await
        .ok(200);
    let mut names: Vec<&str> = followers
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["username"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, vec!["ann", "cat"]);
    let following = get(&app, "/api/v1/accounts/bob/following", None)
        .await
        .ok(200);
    assert_eq!(ids(&following), vec![ann.id.to_string()]);

    // Pages of one follower each reach every follower once.
    let pages = walk_pages(&app, "/api/v1/accounts/bob/followers?limit=1", None).await;
    assert_eq!(pages.len(), 2);
    assert_ne!(pages[0], pages[1]);

    let after = act(&app, &ann, "unfollow", "bob").await;
    assert_eq!(after["relationship"]["following"], false);
    assert_eq!(after["followers_count"], 1);
    assert_eq!(
        act(&app, &ann, "unfollow", "bob").await["followers_count"],
        1,
        "unfollow is idempotent"
    );

    post(
        &app,
        "/api/v1/accounts/ann/follow",
        Some(&ann.token),
        json!(null),
    )
    .await
    .error(422, "self_action");
    post(
        &app,
        "/api/v1/accounts/nobody/follow",
        Some(&ann.token),
        json!(null),
    )
    .await
    .error(404, "not_found");
    post(&app, "/api/v1/accounts/bob/follow", None, json!(null))
        .await
        .error(401, "unauthorized");
    get(&app, "/api/v1/accounts/bob/followers?limit=0", None)
        .await
        .error(400, "invalid_parameter");
    get(&app, "/api/v1/accounts/bob/followers?max_id=abc", None)
        .await
        .error(400, "invalid_parameter");
}

/// Every window (`max_id`, `since_id`, `min_id`, both ends) over the rock member, follower
/// and following lists (by account id) and notifications (by notification id): each item
/// once, newest first, the same as the whole list read page by page.
#[tokio::test]
async fn lists_and_notifications_page_by_every_window() {
    let app = spawn_app().await;
    let hub = member(&app, "hub").await;
    let mut fans = Vec::new();
    for name in [
        "fan_a", "fan_b", "fan_c", "fan_d", "fan_e", "fan_f", "fan_g",
    ] {
        fans.push(member(&app, name).await);
    }
    // Followed in an order unlike the accounts' own, so that a list by account id and
    // notifications by time differ.
    let order = [3, 0, 6, 1, 5, 2, 4];
    for &i in &order {
        act(&app, &fans[i], "follow", "hub").await;
        act(&app, &hub, "follow", &fans[i].username).await;
    }
    let name = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .expect("a JSON array")
            .iter()
            .map(|item| {
                let account = if item["account"].is_object() {
                    &item["account"]
                } else {
                    item
                };
                account["username"].as_str().expect("username").to_owned()
            })
            .collect()
    };
    let mut by_account_id: Vec<&Member> = fans.iter().collect();
    by_account_id.sort_by_key(|m| std::cmp::Reverse(m.id));
    let by_account_id: Vec<String> = by_account_id.iter().map(|m| m.username.clone()).collect();
    let by_follow_time: Vec<String> = order
        .iter()
        .rev()
        .map(|&i| fans[i].username.clone())
        .collect();

    // Everyone here shares the test fixture's rock.
    let rock = get(&app, "/api/v1/accounts/hub", None).await.ok(200)["rock"]["id"]
        .as_str()
        .expect("rock id")
        .to_owned();
    let members_path = format!("/api/v1/rocks/{rock}/members");
    let mut everyone: Vec<&Member> = fans.iter().chain([&hub]).collect();
    everyone.sort_by_key(|m| std::cmp::Reverse(m.id));
    let everyone: Vec<String> = everyone.iter().map(|m| m.username.clone()).collect();

    for (path, token, expected) in [
        (members_path.as_str(), None, &everyone),
        (
            members_path.as_str(),
            Some(fans[2].token.as_str()),
            &everyone,
        ),
        ("/api/v1/accounts/hub/followers", None, &by_account_id),
        (
            "/api/v1/accounts/hub/followers",
            Some(hub.token.as_str()),
            &by_account_id,
        ),
        (
            "/api/v1/accounts/hub/following",
            Some(fans[0].token.as_str()),
            &by_account_id,
        ),
        (
            "/api/v1/notifications",
            Some(hub.token.as_str()),
            &by_follow_time,
        ),
    ] {
        let whole = get(&app, &format!("{path}?limit=40"), token).await.ok(200);
        assert_eq!(&name(&whole), expected, "{path}: the whole list");
        let all = ids(&whole);
        let read = |query: String| {
            let app = &app;
            async move { ids(&get(app, &format!("{path}?{query}"), token).await.ok(200)) }
        };
        let pages = walk_pages(&app, &format!("{path}?limit=3"), token).await;
        assert_eq!(pages.concat(), all, "{path}: pages of 3 by `next`");
        assert_eq!(
            read(format!("max_id={}&limit=2", all[1])).await,
            all[2..4],
            "{path}: max_id"
        );
        assert_eq!(
            read(format!("since_id={}&limit=2", all[5])).await,
            all[0..2],
            "{path}: since_id"
        );
        assert_eq!(
            read(format!("min_id={}&limit=2", all[5])).await,
            all[3..5],
            "{path}: min_id"
        );
        assert_eq!(
            read(format!("max_id={}&since_id={}", all[1], all[5])).await,
            all[2..5],
            "{path}: max_id and since_id"
        );
        assert_eq!(
            read(format!("max_id={}&min_id={}", all[1], all[5])).await,
            all[2..5],
            "{path}: max_id and min_id"
        );
        assert_eq!(
            read(format!("min_id={}&since_id={}&limit=1", all[6], all[4])).await,
            all[3..4],
            "{path}: min_id under since_id reads from since_id"
        );
        // From the oldest end back to the newest by `prev` links.
        let mut back: Vec<String> = Vec::new();
        let mut url = format!("{path}?min_id=0&limit=3");
        loop {
            let reply = get(&app, &url, token).await;
            let prev = reply.link("prev");
            let page = ids(&reply.ok(200));
            if page.is_empty() {
                break;
            }
            back.splice(0..0, page);
            url = prev.expect("a non-empty page links to newer items");
            assert!(back.len() <= all.len(), "{path}: `prev` pages repeat items");
        }
        assert_eq!(back, all, "{path}: pages of 3 by `prev` from the oldest");
    }
}
