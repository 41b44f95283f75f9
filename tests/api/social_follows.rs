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
