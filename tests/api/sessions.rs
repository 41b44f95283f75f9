use crate::helpers::*;

#[tokio::test]
async fn login_issues_a_token_that_authenticates() {
    let app = spawn_app().await;
    app.create_account_directly("granite_gus", "correct horse battery")
        .await;
    let response = app.login("Granite_Gus", "correct horse battery").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    let token = body["token"].as_str().expect("token");
    let me = app
        .get_auth("/api/v1/accounts/verify_credentials", token)
        .await;
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.expect("json");
    assert_eq!(me["username"], "granite_gus");
}

#[tokio::test]
async fn sign_in_reads_any_json_spelling_of_its_body() {
    let app = spawn_app().await;
    // Escapes in the password, as JSON allows them.
    app.create_account_directly("scoria", "quote\" slash\\ é")
        .await;
    for (content_type, body) in [
        (
            "application/json",
            "\n\t {\"username\": \"scoria\", \"password\": \"quote\\\" slash\\\\ \\u00e9\"}",
        ),
        (
            "application/vnd.api+json; charset=utf-8",
            r#"{"password": "quote\" slash\\ é", "username": "scoria", "extra": [1, 2]}"#,
        ),
    ] {
        let response = app.post_raw("/api/v1/sessions", content_type, body).await;
        assert_eq!(response.status(), 200, "{content_type}: {body}");
    }
    // The same field twice is refused, not read as whichever came last.
    let twice = app
        .post_raw(
            "/api/v1/sessions",
            "application/json",
            r#"{"username": "scoria", "password": "x", "password": "quote\" slash\\ é"}"#,
        )
        .await;
    assert_error(twice, 422, "invalid_field").await;
    // A compressed body is refused, not inflated into buffers nobody wipes.
    let compressed = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(vec![
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ])
        .send()
        .await
        .expect("request");
    assert_error(compressed, 415, "unsupported_media_type").await;
    // A JSON value that is not an object, and a body that is not JSON.
    for (body, status, code) in [
        ("  \"scoria\"", 422, "invalid_field"),
        ("", 400, "invalid_json"),
        ("  nonsense", 400, "invalid_json"),
    ] {
        let response = app
            .post_raw("/api/v1/sessions", "application/json", body)
            .await;
        assert_error(response, status, code).await;
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_401() {
    let app = spawn_app().await;
    app.create_account_directly("basalt", "correct horse battery")
        .await;
    assert_error(
        app.login("basalt", "wrong password!").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        app.login("nobody_at_all", "whatever123").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        app.login("bad name!", "whatever123").await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn logout_revokes_the_token_only() {
    let app = spawn_app().await;
    app.create_account_directly("pumice", "correct horse battery")
        .await;
    let first = app.token_for("pumice", "correct horse battery").await;
    let second = app.token_for("pumice", "correct horse battery").await;
    let response = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .bearer_auth(&first)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 204);
    assert_error(
        app.get_auth("/api/v1/accounts/verify_credentials", &first)
            .await,
        401,
        "token_revoked",
    )
    .await;
    assert_eq!(
        app.get_auth("/api/v1/accounts/verify_credentials", &second)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn missing_bad_and_expired_tokens_are_401() {
    let app = spawn_app().await;
    let id = app
        .create_account_directly("shale", "correct horse battery")
        .await;
    let no_token = app.get("/api/v1/accounts/verify_credentials").await;
    assert_error(no_token, 401, "unauthorized").await;
    assert_error(
        app.get_auth("/api/v1/accounts/verify_credentials", "not.a.jwt")
            .await,
        401,
        "invalid_token",
    )
    .await;

    // A well-formed token signed with another key.
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({"sub": id.to_string(), "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600});
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"some-other-secret-some-other-secret-000"),
    )
    .expect("encode");
    assert_error(
        app.get_auth("/api/v1/accounts/verify_credentials", &forged)
            .await,
        401,
        "invalid_token",
    )
    .await;

    // Right key, live session row, but past its expiry.
    let jti = uuid::Uuid::new_v4();
    rockstar::db::sessions::create(
        &app.db,
        jti,
        id,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await
    .expect("session row");
    let claims = serde_json::json!({"sub": id.to_string(), "jti": jti.to_string(), "iat": now - 7200, "exp": now - 3600});
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("encode");
    assert_error(
        app.get_auth("/api/v1/accounts/verify_credentials", &expired)
            .await,
        401,
        "token_expired",
    )
    .await;

    // Right key, unexpired, but no session row (never issued).
    let claims = serde_json::json!({"sub": id.to_string(), "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600});
    let unissued = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("encode");
    assert_error(
        app.get_auth("/api/v1/accounts/verify_credentials", &unissued)
            .await,
        401,
        "token_revoked",
    )
    .await;
    let basic = app
        .client
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .basic_auth("shale", Some("x"))
        .send()
        .await
        .expect("request");
    assert_error(basic, 401, "unauthorized").await;
    // Two Authorization headers are refused whichever comes first, a valid one included.
    let token = app.token_for("shale", "correct horse battery").await;
    for (first, second) in [(token.as_str(), "garbage"), ("garbage", token.as_str())] {
        let twice = app
            .client
            .get(app.url("/api/v1/accounts/verify_credentials"))
            .header("authorization", format!("Bearer {first}"))
            .header("authorization", format!("Bearer {second}"))
            .send()
            .await
            .expect("request");
        assert_error(twice, 400, "duplicate_header").await;
    }
    assert_eq!(
        app.get_auth("/api/v1/accounts/verify_credentials", &token)
            .await
            .status(),
        200,
        "one header with the same token is fine"
    );
}

#[tokio::test]
async fn login_is_rate_limited_per_ip_and_the_server_keeps_serving() {
    let app = spawn_app_with(|s| {
        s.rate_limit.login_per_minute = 1;
        s.rate_limit.login_burst = 3;
    })
    .await;
    for _ in 0..3 {
        assert_error(
            app.login("nobody_here", "whatever123").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let limited = app.login("nobody_here", "whatever123").await;
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_error(limited, 429, "rate_limited").await;
    app.assert_still_serving().await;
}

#[tokio::test]
async fn guesses_at_one_username_are_limited_whatever_the_address() {
    let app = spawn_app_with(|s| {
        s.rate_limit.login_per_account_per_minute = 1;
        s.rate_limit.login_per_account_burst = 3;
    })
    .await;
    app.create_account_directly("guarded", "correct horse battery")
        .await;
    app.create_account_directly("neighbour", "correct horse battery")
        .await;
    for _ in 0..3 {
        assert_error(
            app.login("guarded", "wrong guess 123").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // The per-address limit is far off; the username's budget is spent, for any letter case.
    assert_error(
        app.login("GUARDED", "correct horse battery").await,
        429,
        "rate_limited",
    )
    .await;
    let other = app.login("neighbour", "correct horse battery").await;
    assert_eq!(other.status(), 200, "another member is not held up");
}

#[tokio::test]
async fn a_password_typed_in_another_unicode_form_still_signs_in() {
    let app = spawn_app().await;
    // The same characters, precomposed (as most keyboards type them) and decomposed.
    let composed = "caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e";
    let decomposed = "cafe\u{301} cre\u{300}me bru\u{302}le\u{301}e";
    assert_ne!(composed.as_bytes(), decomposed.as_bytes());
    app.create_account_directly("brulee", decomposed).await;
    assert_eq!(app.login("brulee", composed).await.status(), 200);
    assert_eq!(app.login("brulee", decomposed).await.status(), 200);
    assert_error(
        app.login("brulee", "cafe creme brulee").await,
        401,
        "invalid_credentials",
    )
    .await;
    // An account hashed before passwords were normalised, from the decomposed bytes as
    // typed, still signs in as it always did.
    use argon2::PasswordHasher;
    let salt = argon2::password_hash::SaltString::encode_b64(b"sixteen byte salt").expect("salt");
    let legacy = argon2::Argon2::default()
        .hash_password(decomposed.as_bytes(), &salt)
        .expect("hash")
        .to_string();
    app.create_account_directly("legacy_brulee", "placeholder password")
        .await;
    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE username = 'legacy_brulee'")
        .bind(&legacy)
        .execute(&app.db)
        .await
        .expect("legacy hash");
    assert_eq!(app.login("legacy_brulee", decomposed).await.status(), 200);
}
