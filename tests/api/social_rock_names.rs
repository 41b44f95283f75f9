//! Rocks as community: name suggestions are votes, one per member and rock.
use crate::helpers::spawn_app;
use crate::social_helpers::*;
use serde_json::json;

#[tokio::test]
async fn members_suggest_and_vote_rock_names() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;
    let rock = post_status(&app, &ann, "which rock am I?").await["account"]["rock"]["id"]
        .as_str()
        .expect("rock id")
        .to_owned();
    let path = format!("/api/v1/rocks/{rock}/names");

    let names = post(
        &app,
        &path,
        Some(&ann.token),
        json!({ "name": "  Old   Grumpy " }),
    )
    .await
    .ok(200);
    assert_eq!(
        names["names"],
        json!([{ "name": "Old Grumpy", "votes": 1, "voted": true }])
    );
    // Voting twice (any case) is one vote.
    post(
        &app,
        &path,
        Some(&ann.token),
        json!({ "name": "old grumpy" }),
    )
    .await
    .ok(200);
    post(&app, &path, Some(&bob.token), json!({ "name": "Pebble" }))
        .await
        .ok(200);
    post(&app, &path, Some(&cat.token), json!({ "name": "PEBBLE" }))
        .await
        .ok(200);
    let names = get(&app, &path, Some(&ann.token)).await.ok(200);
    assert_eq!(names["top_name"], "Pebble");
    assert_eq!(
        names["names"],
        json!([{ "name": "Pebble", "votes": 2, "voted": false }, { "name": "Old Grumpy", "votes": 1, "voted": true }])
    );
    // The rock object shows the winning name (the rock's own name stays).
    let rock_object = get(&app, &format!("/api/v1/rocks/{rock}"), None)
        .await
        .ok(200);
    assert_eq!(rock_object["community_name"], "Pebble");
    assert_eq!(rock_object["name"], "Fixture Rock");
    assert_eq!(
        rock_object["names"],
        json!([{ "name": "Pebble", "votes": 2 }, { "name": "Old Grumpy", "votes": 1 }])
    );
    // One vote per member and rock: a new name moves it, so nobody floods a rock.
    post(&app, &path, Some(&ann.token), json!({ "name": "Flood 1" }))
        .await
        .ok(200);
    let names = post(&app, &path, Some(&ann.token), json!({ "name": "Flood 2" }))
        .await
        .ok(200);
    assert_eq!(
        names["names"],
        json!([{ "name": "Pebble", "votes": 2, "voted": false }, { "name": "Flood 2", "votes": 1, "voted": true }])
    );
    post(
        &app,
        &path,
        Some(&ann.token),
        json!({ "name": "Old Grumpy" }),
    )
    .await
    .ok(200);
    let anonymous = get(&app, &path, None).await.ok(200);
    assert!(anonymous["names"][0].get("voted").is_none());

    post(&app, &path, Some(&ann.token), json!({ "name": "   " }))
        .await
        .error(422, "name_empty");
    post(
        &app,
        &path,
        Some(&ann.token),
        json!({ "name": "x".repeat(41) }),
    )
    .await
    .error(422, "name_too_long");
    post(&app, &path, None, json!({ "name": "Rocky" }))
        .await
        .error(401, "unauthorized");
    post(
        &app,
        "/api/v1/rocks/987654/names",
        Some(&ann.token),
        json!({ "name": "Rocky" }),
    )
    .await
    .error(404, "rock_not_found");
    get(&app, "/api/v1/rocks/abc/names", None)
        .await
        .error(404, "rock_not_found");
}
