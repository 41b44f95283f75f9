use crate::helpers::*;

#[tokio::test]
async fn public_profile_shows_the_account_and_its_rock() {
    let app = spawn_app().await;
    let id = app
        .create_account_directly("obsidian", "correct horse battery")
        .await;
    let response = app.get("/api/v1/accounts/OBSIDIAN").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["id"], id.to_string());
    assert_eq!(body["username"], "obsidian");
    assert_eq!(body["rock"]["name"], "Fixture Rock");
    let rock_id = body["rock"]["id"].as_str().expect("rock id");
    // Versioned by the stored image (`?v=`), so each URL can be cached for good.
    let url = |field: &str| body["rock"][field].as_str().unwrap_or_default().to_string();
    assert!(
        url("image_url").starts_with(&format!("/media/rocks/{rock_id}/photo?v=")),
        "{body}"
    );
    assert!(
        url("face_url").starts_with(&format!("/media/rocks/{rock_id}/face?v=")),
        "{body}"
    );
    assert!(
        body.get("password_hash").is_none() && body.get("rock_embedding").is_none(),
        "{body}"
    );
    assert_error(
        app.get("/api/v1/accounts/nobody_here").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn patch_me_updates_display_name_and_bio_with_limits() {
    let app = spawn_app().await;
    app.create_account_directly("marble", "correct horse battery")
        .await;
    let token = app.token_for("marble", "correct horse battery").await;
    let patch = |body: serde_json::Value| {
        app.client
            .patch(app.url("/api/v1/accounts/me"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let response = patch(serde_json::json!({"display_name": "Marble Mary", "bio": "Polished."}))
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["display_name"], "Marble Mary");
    assert_eq!(body["note"], "Polished.");
    // Only the given field changes.
    let body: serde_json::Value = patch(serde_json::json!({"note": "Rough."}))
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(body["display_name"], "Marble Mary");
    assert_eq!(body["note"], "Rough.");

    assert_error(
        patch(serde_json::json!({"display_name": "x".repeat(51)}))
            .await
            .expect("request"),
        422,
        "display_name_too_long",
    )
    .await;
    assert_error(
        patch(serde_json::json!({"note": "x".repeat(501)}))
            .await
            .expect("request"),
        422,
        "note_too_long",
    )
    .await;
    assert_error(
        patch(serde_json::json!({"avatar": "me.jpg"}))
            .await
            .expect("request"),
        422,
        "invalid_field",
    )
    .await;
    let unauthenticated = app
        .client
        .patch(app.url("/api/v1/accounts/me"))
        .json(&serde_json::json!({"note": "hi"}))
        .send()
        .await
        .expect("request");
    assert_error(unauthenticated, 401, "unauthorized").await;
    let profile: serde_json::Value = app
        .get("/api/v1/accounts/marble")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(profile["note"], "Rough.");
}

#[tokio::test]
async fn delete_me_removes_the_account_and_its_sessions() {
    let app = spawn_app().await;
    let id = app
        .create_account_directly("gneiss", "correct horse battery")
        .await;
    let token = app.token_for("gneiss", "correct horse battery").await;
    let response = app
        .client
        .delete(app.url("/api/v1/accounts/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 204);
    assert_error(app.get("/api/v1/accounts/gneiss").await, 404, "not_found").await;
    assert_eq!(
        app.get_auth("/api/v1/accounts/verify_credentials", &token)
            .await
            .status(),
        401
    );
    assert_error(
        app.login("gneiss", "correct horse battery").await,
        401,
        "invalid_credentials",
    )
    .await;
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE account_id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(sessions, 0, "sessions go with the account");
    // The name is retired: a report or mention of @gneiss never points at someone new.
    let name: serde_json::Value = app
        .get("/api/v1/usernames/GNEISS")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(name["available"], false, "{name}");
    assert_eq!(name["reason"], "username_taken", "{name}");
    assert_error(
        app.sign_up(Form::new(
            "gneiss",
            "another long password",
            crate::fixtures::landscape_jpeg(),
        ))
        .await,
        409,
        "username_taken",
    )
    .await;
}
