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
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    let all_ok = ["database", "face_engine", "gallery"]
        .iter()
        .all(|k| body["checks"][k] == "ok");
    assert_eq!(status, if all_ok { 200 } else { 503 }, "{body}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    app.get("/api/v1/accounts/nobody_here").await;
    let text = app.get("/metrics").await.text().await.expect("text");
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
