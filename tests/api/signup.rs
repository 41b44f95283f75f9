//! Sign-up through the real face engine and rock gallery.
use crate::fixtures;
use crate::helpers::*;

#[tokio::test]
async fn sign_up_with_a_real_selfie_gives_a_rock_and_a_working_account() {
    let Some(selfie) = human_photo(0) else { return };
    require_face_engine();
    let app = spawn_app().await;
    let response = app
        .sign_up(Form::new("Sandstone_Sam", "correct horse battery", selfie))
        .await;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    let account = &body["account"];
    assert_eq!(account["username"], "sandstone_sam");
    let rock = &account["rock"];
    let rock_id: i64 = rock["id"]
        .as_str()
        .expect("rock id")
        .parse()
        .expect("numeric id");
    let similarity = rock["similarity"].as_f64().expect("similarity");
    assert!((-1.0..=1.0).contains(&similarity), "{similarity}");
    let likeness = rock["likeness"]
        .as_f64()
        .expect("likeness (the calibration has reference faces)");
    assert!((0.0..=1.0).contains(&likeness), "{likeness}");
    assert!(rock["image_url"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(rock["face_url"].as_str().is_some_and(|u| !u.is_empty()));

    // The rock exists in the gallery, and the account stores that rock's embedding.
    let (name, same): (String, bool) = sqlx::query_as(
        "SELECT r.name, a.rock_embedding = r.embedding FROM accounts a JOIN rocks r ON r.id = a.rock_id WHERE a.username = 'sandstone_sam'",
    )
    .fetch_one(&app.db)
    .await
    .expect("account row");
    assert_eq!(rock["name"], name);
    assert!(same, "the stored embedding is the rock's");
    let gallery_has_it: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rocks WHERE id = $1)")
            .bind(rock_id)
            .fetch_one(&app.db)
            .await
            .expect("query");
    assert!(gallery_has_it);

    let token = body["token"].as_str().expect("token");
    let me: serde_json::Value = app
        .get_auth("/api/v1/accounts/verify_credentials", token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["rock"]["id"], rock["id"]);
    let login_token = app
        .token_for("SANDSTONE_SAM", "correct horse battery")
        .await;
    assert_eq!(
        app.get_auth("/api/v1/accounts/verify_credentials", &login_token)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn images_without_exactly_one_usable_face_get_documented_errors() {
    require_face_engine();
    let app = spawn_app().await;
    let pw = "correct horse battery";
    assert_error(
        app.sign_up(Form::new("landscape", pw, fixtures::landscape_jpeg()))
            .await,
        422,
        "no_face",
    )
    .await;
    let blank = Form {
        photo: Some((fixtures::blank_png(), "image/png")),
        ..Form::new("blank", pw, vec![])
    };
    assert_error(app.sign_up(blank).await, 422, "no_face").await;
    let huge = Form {
        photo: Some((fixtures::png_header_claiming(20_000, 20_000), "image/png")),
        ..Form::new("huge", pw, vec![])
    };
    assert_error(app.sign_up(huge).await, 413, "image_too_large").await;
    assert_error(
        app.sign_up(Form::new("noise", pw, b"GIF89a not really".to_vec()))
            .await,
        415,
        "unsupported_image",
    )
    .await;

    if let (Some(a), Some(b)) = (human_photo(0), human_photo(1)) {
        assert_error(
            app.sign_up(Form::new("truncated", pw, fixtures::truncated_jpeg(&a)))
                .await,
            415,
            "unsupported_image",
        )
        .await;
        assert_error(
            app.sign_up(Form::new("two_faces", pw, fixtures::side_by_side(&a, &b)))
                .await,
            422,
            "multiple_faces",
        )
        .await;
        // And the server still serves a good sign-up afterwards.
        let ok = app.sign_up(Form::new("after_errors", pw, a)).await;
        assert_eq!(ok.status(), 201, "{:?}", ok.text().await);
    }
    let none: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts WHERE username <> 'after_errors'")
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!(none, 0);
    app.assert_still_serving().await;
}

#[tokio::test]
async fn concurrent_sign_ups_for_one_name_give_one_201_and_one_409() {
    let (Some(a), Some(b)) = (human_photo(2), human_photo(3)) else {
        return;
    };
    require_face_engine();
    let app = spawn_app().await;
    let (first, second) = tokio::join!(
        app.sign_up(Form::new("twin_rock", "correct horse battery", a)),
        app.sign_up(Form::new("Twin_Rock", "another password", b)),
    );
    let mut statuses = vec![first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    let bodies = [
        first.text().await.unwrap_or_default(),
        second.text().await.unwrap_or_default(),
    ];
    assert_eq!(statuses, vec![201, 409], "{bodies:?}");
    assert!(
        bodies.iter().any(|b| b.contains("username_taken")),
        "{bodies:?}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn taken_username_is_409() {
    let Some(selfie) = human_photo(4) else { return };
    require_face_engine();
    let app = spawn_app().await;
    app.create_account_directly("taken_name", "correct horse battery")
        .await;
    assert_error(
        app.sign_up(Form::new("TAKEN_name", "another password", selfie))
            .await,
        409,
        "username_taken",
    )
    .await;
    // Checked before the face engine runs: a faceless photo still gets the 409, not no_face.
    let mut faceless = Form::new(
        "taken_name",
        "another password",
        crate::fixtures::blank_png(),
    );
    faceless.photo = Some((crate::fixtures::blank_png(), "image/png"));
    assert_error(app.sign_up(faceless).await, 409, "username_taken").await;
}

#[tokio::test]
async fn a_full_inference_queue_is_503_with_retry_after_and_then_recovers() {
    let Some(selfie) = human_photo(0) else { return };
    require_face_engine();
    let mut config = face_config();
    config.workers = 1;
    config.queue = 0;
    let engine = rockstar::face::FaceEngine::new(config).expect("a one-worker engine");
    let app = spawn_app_with_engine(|_| {}, engine).await;
    let names: Vec<String> = (0..6).map(|i| format!("busy_{i}")).collect();
    let responses = futures::future::join_all(
        names
            .iter()
            .map(|name| app.sign_up(Form::new(name, "correct horse battery", selfie.clone()))),
    )
    .await;
    let mut overloaded = 0;
    for response in responses {
        match response.status().as_u16() {
            201 => {}
            503 => {
                let seconds = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                assert!(
                    seconds.is_some_and(|s| (1..=60).contains(&s)),
                    "503 carries Retry-After in whole seconds, 1 to 60: {seconds:?}"
                );
                assert_error(response, 503, "overloaded").await;
                overloaded += 1;
            }
            other => panic!("unexpected status {other}: {:?}", response.text().await),
        }
    }
    assert!(
        overloaded >= 1,
        "six selfies at once on one worker with no queue: some must be turned away"
    );
    let later = app
        .sign_up(Form::new("after_the_rush", "correct horse battery", selfie))
        .await;
    assert_eq!(later.status(), 201);
}

#[tokio::test]
async fn username_status_says_taken_reserved_invalid_or_free() {
    let app = spawn_app().await;
    app.create_account_directly("taken_name", "correct horse battery")
        .await;
    for (name, available, reason) in [
        ("TAKEN_name", false, Some("username_taken")),
        ("admin", false, Some("username_reserved")),
        ("a%20b", false, Some("invalid_username")),
        ("free_name", true, None),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/usernames/{name}")))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200, "{name}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["available"], available, "{name}: {body}");
        assert_eq!(body["reason"].as_str(), reason, "{name}: {body}");
    }
}
