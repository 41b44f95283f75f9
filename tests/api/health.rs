use crate::helpers::*;

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().contains_key("x-request-id"),
        "responses carry a request id"
    );
}

#[tokio::test]
async fn readyz_checks_the_database() {
    // The engine and the gallery are part of the product: with them all checks pass.
    require_face_engine();
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("json");
    for check in ["database", "storage", "face_engine", "gallery"] {
        assert_eq!(body["checks"][check], "ok", "{check}: {body}");
    }
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn unreachable_object_storage_is_unready_and_a_clean_503() {
    // Nothing listens on port 9 (discard) here: every storage request is refused.
    let app = spawn_app_with(|settings| {
        settings.storage = Some(rockstar::storage::StorageConfig::S3 {
            endpoint: Some("http://127.0.0.1:9".into()),
            bucket: "rockstar".into(),
            region: "us-east-1".into(),
            path_style: true,
            access_key_id: "test".into(),
            secret_access_key: "test-secret".into(),
        });
    })
    .await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["checks"]["storage"], "unavailable", "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");

    // A wrong token is refused before storage is asked; a right one, for an upload whose
    // row exists, reaches it.
    let owner = app
        .create_account_directly("uploader", "correct horse battery")
        .await;
    sqlx::query(
        "INSERT INTO media_attachments (id, account_id, key, preview_key, width, height, faces_covered) \
         VALUES (12345, $1, 'media/12345/image.jpg', 'media/12345/preview.jpg', 10, 10, 0)",
    )
    .bind(owner)
    .execute(&app.db)
    .await
    .expect("an upload's row");
    let response = app.get("/media/attachments/12345/00/image").await;
    assert_eq!(response.status(), 404);
    let response = app.get(&media_url("12345", "image")).await;
    let status = response.status().as_u16();
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.expect("json");
    check_error(status, &body, 503, "storage_unavailable");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    app.get("/api/v1/accounts/nobody_here").await;
    for invented in ["X0001", "X0002"] {
        let method = reqwest::Method::from_bytes(invented.as_bytes()).expect("method");
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .expect("request");
    }
    let text = app.get("/metrics").await.text().await.expect("text");
    assert!(
        !text.contains("X0001"),
        "invented methods are not labels: {text}"
    );
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    assert!(
        text.contains(
            r#"rockstar_http_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/accounts/{username}",status="404""#),
        "{text}"
    );
    assert!(text.contains("rockstar_face_analyses_in_flight"), "{text}");
}

#[tokio::test]
async fn a_metrics_listener_of_its_own_takes_metrics_off_the_main_port() {
    let app = spawn_app_with(|s| s.server.metrics_bind = Some("127.0.0.1:0".into())).await;
    let metrics_port = app.metrics_port.expect("a metrics listener");
    assert_ne!(metrics_port, app.port);
    assert_eq!(app.get("/healthz").await.status(), 200);

    // However the path is spelt, the main port does not serve it.
    for path in ["/metrics", "/%6Detrics", "/%6d%65trics"] {
        let main = app.get(path).await;
        assert_eq!(main.status(), 404, "{path}");
        let body: serde_json::Value = main.json().await.expect("json error");
        assert_eq!(body["error"], "not_found", "{path}");
    }
    assert_eq!(
        app.client
            .head(app.url("/metrics"))
            .send()
            .await
            .expect("HEAD")
            .status(),
        404
    );

    let on_its_own = |path: &str| {
        app.client
            .get(format!("http://127.0.0.1:{metrics_port}{path}"))
            .send()
    };
    let metrics = on_its_own("/metrics").await.expect("metrics");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    assert!(
        text.contains(
            r#"rockstar_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    let encoded = on_its_own("/%6Detrics").await.expect("metrics, encoded");
    assert_eq!(encoded.status(), 200);
    // The metrics port serves nothing else.
    for path in ["/healthz", "/api/v1/rocks", "/"] {
        let response = on_its_own(path).await.expect("request");
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn openapi_document_lists_the_endpoints_and_docs_work_offline() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    for path in [
        "/api/v1/accounts",
        "/api/v1/sessions",
        "/api/v1/sessions/current",
        "/api/v1/accounts/me",
        "/api/v1/accounts/verify_credentials",
        "/api/v1/accounts/{username}",
    ] {
        assert!(spec["paths"].get(path).is_some(), "spec lacks {path}");
    }
    assert!(spec["components"]["schemas"].get("Account").is_some());
    // An id parameter is what clients send: a bare string or integer.
    let id = &spec["components"]["schemas"]["IdParam"]["oneOf"];
    let types: Vec<&str> = id
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(types, ["string", "integer"], "IdParam: {id}");
    let page = app.get("/api/docs").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("/api/v1/openapi.json"));
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "the docs page loads nothing from elsewhere"
    );
}

#[tokio::test]
async fn unknown_routes_are_404_in_the_json_format() {
    let app = spawn_app().await;
    let response = app.get("/no/such/thing").await;
    assert_error(response, 404, "not_found").await;
}
