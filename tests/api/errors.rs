//! Error paths that are decided before the face engine runs, and body/format errors.
use crate::fixtures;
use crate::helpers::*;

fn photo() -> Vec<u8> {
    fixtures::landscape_jpeg()
}

#[tokio::test]
async fn sign_up_validates_fields_before_the_face_engine() {
    let app = spawn_app().await;
    let long = "x".repeat(129);
    let cases: Vec<(Form, u16, &str)> = vec![
        (
            Form::new("ab", "long enough pw", photo()),
            422,
            "invalid_username",
        ),
        (
            Form::new("has space", "long enough pw", photo()),
            422,
            "invalid_username",
        ),
        (
            Form::new("Verify_Credentials", "long enough pw", photo()),
            422,
            "username_reserved",
        ),
        (
            Form::new("quartz", "short", photo()),
            422,
            "password_too_short",
        ),
        (
            Form::new("quartz", &long, photo()),
            422,
            "password_too_long",
        ),
        (
            Form {
                consent: None,
                ..Form::new("quartz", "long enough pw", photo())
            },
            422,
            "consent_required",
        ),
        (
            Form {
                consent: Some("false"),
                ..Form::new("quartz", "long enough pw", photo())
            },
            422,
            "consent_required",
        ),
        (
            Form {
                username: None,
                ..Form::new("quartz", "long enough pw", photo())
            },
            400,
            "missing_field",
        ),
        (
            Form {
                password: None,
                ..Form::new("quartz", "long enough pw", photo())
            },
            400,
            "missing_field",
        ),
        (
            Form {
                photo: None,
                ..Form::new("quartz", "long enough pw", photo())
            },
            400,
            "missing_field",
        ),
    ];
    for (form, status, code) in cases {
        assert_error(app.sign_up(form).await, status, code).await;
    }
    // A ticked box in any spelling is consent; anything else is not.
    for (value, consents) in [
        ("TRUE", true),
        (" On ", true),
        ("Yes", true),
        ("1", true),
        ("maybe", false),
        ("0", false),
        ("", false),
    ] {
        let form = Form {
            consent: Some(value),
            ..Form::new("quartz", "long enough pw", photo())
        };
        let response = app.sign_up(form).await;
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(
            body["error"] == "consent_required",
            !consents,
            "consent={value:?}: {body}"
        );
    }
    let none_created: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(none_created, 0);
}

#[tokio::test]
async fn sign_up_refuses_other_content_types_and_unknown_fields() {
    let app = spawn_app().await;
    let json = app
        .client
        .post(app.url("/api/v1/accounts"))
        .json(&serde_json::json!({"username": "quartz", "password": "long enough pw"}))
        .send()
        .await
        .expect("request");
    assert_error(json, 415, "unsupported_media_type").await;
    let form = Form::new("quartz", "long enough pw", photo())
        .build()
        .text("admin", "true");
    let response = app
        .client
        .post(app.url("/api/v1/accounts"))
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_error(response, 400, "unknown_field").await;
    // A field given twice is refused (so a form's size is bounded by its field limits).
    let twice = Form::new("quartz", "long enough pw", photo())
        .build()
        .text("username", "granite");
    let response = app
        .client
        .post(app.url("/api/v1/accounts"))
        .multipart(twice)
        .send()
        .await
        .expect("request");
    assert_error(response, 400, "duplicate_field").await;
    let broken = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("this is not multipart at all")
        .send()
        .await
        .expect("request");
    assert_error(broken, 400, "invalid_multipart").await;
    // A body that stops inside a part (here after its line break, before a boundary)
    // is complete as far as Content-Length goes: it is answered at once, for sign-ups and
    // uploads alike. (actix-multipart before 0.8.2 waited on it for ever.)
    let cut = |field: &str| {
        format!("--XB\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\nabcdef\r\n")
    };
    app.create_account_directly("cutform", "long enough pw")
        .await;
    let token = app.token_for("cutform", "long enough pw").await;
    for (path, field, bearer) in [
        ("/api/v1/accounts", "username", None),
        ("/api/v1/media", "file", Some(&token)),
    ] {
        let mut request = app
            .client
            .post(app.url(path))
            .header("content-type", "multipart/form-data; boundary=XB")
            .body(cut(field));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = tokio::time::timeout(std::time::Duration::from_secs(20), request.send())
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer in 20 s to a form cut inside a part"))
            .expect("request");
        assert_error(response, 400, "invalid_multipart").await;
    }
}

#[tokio::test]
async fn oversized_photo_and_body_are_413_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    // Over the 10 MiB photo cap but under the 12 MiB body limit: the reader stops at the cap.
    let big = vec![0xABu8; 10 * 1024 * 1024 + 1];
    assert_error(
        app.sign_up(Form::new("quartz", "long enough pw", big))
            .await,
        413,
        "image_too_large",
    )
    .await;
    // Over the body limit: refused from Content-Length, before reading.
    let app_small = spawn_app_with(|s| s.server.body_limit = 64 * 1024).await;
    let response = app_small
        .sign_up(Form::new("quartz", "long enough pw", vec![0u8; 100 * 1024]))
        .await;
    assert_error(response, 413, "payload_too_large").await;
    // Chunked, so no Content-Length: refused while it streams. Each case is 1 MiB, sixteen
    // times the limit: a multipart preamble that never reaches a boundary, and a JSON body.
    for (path, content_type) in [
        ("/api/v1/accounts", "multipart/form-data; boundary=XYZ"),
        ("/api/v1/sessions", "application/json"),
    ] {
        let (status, body) = send_chunked(&app_small, path, content_type, 1 << 20).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(body.contains("payload_too_large"), "{path}: {body}");
    }
    for app in [&app, &app_small] {
        app.assert_still_serving().await;
    }
}

/// The status code of a raw HTTP answer (0 when there is none).
fn status_code(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Posts `total` bytes of `a` with Transfer-Encoding: chunked (which reqwest cannot be made
/// to send without a streaming body) and returns the status and body of the answer.
async fn send_chunked(
    app: &TestApp,
    path: &str,
    content_type: &str,
    total: usize,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("headers");
    let chunk = vec![b'a'; 16 * 1024];
    let mut sent = 0;
    while sent < total {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        // The server may answer and close before it has everything.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    (status_code(&text), text)
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_refused_and_frees_its_connection() {
    let app = spawn_app_with(|s| {
        s.server.body_idle_timeout_secs = 2;
        s.server.body_timeout_secs = 5;
    })
    .await;
    app.create_account_directly("slow_sender", "long enough pw")
        .await;
    let token = app.token_for("slow_sender", "long enough pw").await;
    let auth = format!("Authorization: Bearer {token}\r\n");
    // Each body promises 100 bytes and sends 10: a JSON reader, the multipart reader, and
    // actix's own byte reader.
    for (path, content_type, extra) in [
        ("/api/v1/sessions", "application/json", ""),
        ("/api/v1/accounts", "multipart/form-data; boundary=XYZ", ""),
        (
            "/api/v1/notifications/read",
            "application/json",
            auth.as_str(),
        ),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
             {extra}Content-Length: 100\r\n\r\n"
        );
        let (status, answer) = send_slowly(&app, &head, &[b"{\"a\": \"b\", ".as_slice()], 0).await;
        assert_eq!(status, 408, "{path}: {answer}");
        assert!(answer.contains("body_timeout"), "{path}: {answer}");
    }
    // Chunked, stalled inside a chunk: actix would wait to drain the rest for ever, so the
    // connection must be closed with the answer.
    let head = "POST /api/v1/sessions HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (status, answer) = send_slowly(&app, head, &[b"10\r\n{\"usern".as_slice()], 0).await;
    assert_eq!(status, 408, "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    // The same when the body is refused before it is read (no token): nothing waits to
    // drain it.
    let head = "POST /api/v1/statuses HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (status, answer) = send_slowly(&app, head, &[b"10\r\n{\"text".as_slice()], 0).await;
    assert_eq!(status, 401, "{answer}");
    // A byte a second never stalls for 2 s, but the whole body must arrive within 5 s.
    let head = "POST /api/v1/sessions HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    let started = std::time::Instant::now();
    let (status, answer) = send_slowly(&app, head, &[b"{".as_slice(); 30], 1).await;
    assert_eq!(status, 408, "{answer}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "answered at the 5 s deadline, not after the 30 bytes"
    );
    app.assert_still_serving().await;
}

/// Sends `head`, then each piece with `pause_secs` between them, never finishing the body,
/// and returns the status and text of the answer, which must come, and the connection
/// close, within 30 s.
async fn send_slowly(
    app: &TestApp,
    head: &str,
    pieces: &[&[u8]],
    pause_secs: u64,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("headers");
    let (mut reader, mut writer) = stream.into_split();
    let pieces: Vec<Vec<u8>> = pieces.iter().map(|p| p.to_vec()).collect();
    let sender = tokio::spawn(async move {
        for piece in pieces {
            if writer.write_all(&piece).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(pause_secs)).await;
        }
        // Keep the connection open, sending nothing more.
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        drop(writer);
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        reader.read_to_end(&mut answer),
    )
    .await;
    sender.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(
        read.is_ok(),
        "no answer, or the connection stayed open: {text:?}"
    );
    (status_code(&text), text)
}

#[tokio::test]
async fn json_bodies_get_the_one_error_format() {
    let app = spawn_app().await;
    let post = |body: &'static str, content_type: &'static str| {
        app.post_raw("/api/v1/sessions", content_type, body)
    };
    assert_error(
        post("{not json", "application/json").await,
        400,
        "invalid_json",
    )
    .await;
    assert_error(
        post(r#"{"username": "x"}"#, "application/json").await,
        400,
        "missing_field",
    )
    .await;
    assert_error(
        post(r#"{"username": 5, "password": "x"}"#, "application/json").await,
        422,
        "invalid_field",
    )
    .await;
    // serde would read a struct from an array by position; the API takes objects only.
    assert_error(
        post(r#"["quartz", "long enough pw"]"#, "application/json").await,
        422,
        "invalid_field",
    )
    .await;
    assert_error(
        post("username=x&password=y", "application/x-www-form-urlencoded").await,
        415,
        "unsupported_media_type",
    )
    .await;
    let huge = format!(
        r#"{{"username": "{}", "password": "x"}}"#,
        "a".repeat(100_000)
    );
    let response = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("request");
    assert_error(response, 413, "payload_too_large").await;
    // Unknown paths and wrong methods answer in the same format.
    let put = app
        .client
        .put(app.url("/api/v1/sessions"))
        .send()
        .await
        .expect("request");
    assert_error(put, 405, "method_not_allowed").await;
    // Every route answers a wrong method with 405 and the methods it takes, wherever in
    // the app it is registered.
    for (method, path, allowed) in [
        (reqwest::Method::PUT, "/api/v1/statuses", "POST"),
        (reqwest::Method::DELETE, "/api/v1/rocks", "GET, HEAD"),
        (reqwest::Method::POST, "/api/v1/timelines/home", "GET, HEAD"),
        (
            reqwest::Method::GET,
            "/api/v1/accounts/someone/follow",
            "POST",
        ),
        (reqwest::Method::POST, "/healthz", "GET, HEAD"),
        (reqwest::Method::POST, "/media/rocks/1/face", "GET, HEAD"),
        // The web app's files: GET and HEAD, whether or not such a file exists.
        (reqwest::Method::POST, "/", "GET, HEAD"),
        (reqwest::Method::POST, "/no/such/path", "GET, HEAD"),
        (reqwest::Method::OPTIONS, "/index.html", "GET, HEAD"),
        (
            reqwest::Method::PATCH,
            "/api/v1/statuses/1",
            "DELETE, GET, HEAD",
        ),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .expect("request");
        let mut allow: Vec<String> = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        allow.sort();
        assert_eq!(allow.join(", "), allowed, "{method} {path}: Allow");
        assert_error(response, 405, "method_not_allowed").await;
    }
    // The static files answer other methods in the same format.
    let post_root = app.client.post(app.url("/")).send().await.expect("request");
    assert_error(post_root, 405, "method_not_allowed").await;
    // HEAD works wherever GET does, without a body.
    for path in ["/healthz", "/api/v1/rocks", "/api/v1/timelines/public"] {
        let head = app
            .client
            .head(app.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(head.status().as_u16(), 200, "HEAD {path}");
        assert!(
            head.bytes().await.expect("body").is_empty(),
            "HEAD {path} has no body"
        );
    }
    let unknown = app
        .client
        .get(app.url("/api/v1/no_such_thing"))
        .send()
        .await
        .expect("request");
    assert_error(unknown, 404, "not_found").await;
    // Names the files service will never serve are simply not there, in the one format.
    for path in [
        "/.env",
        "/.well-known/security.txt",
        "/x%2fy",
        "/static/..%2f..%2fCargo.toml",
    ] {
        let response = app.get(path).await;
        assert_error(response, 404, "not_found").await;
    }
    // A body in a coding the server cannot undo is refused, not read as plain text.
    let token = {
        app.create_account_directly("encoder", "long enough pw")
            .await;
        app.token_for("encoder", "long enough pw").await
    };
    for coding in ["xyz", "compress", "gzip, identity"] {
        let response = app
            .client
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("content-encoding", coding)
            .body(r#"{"text": "encoded"}"#)
            .send()
            .await
            .expect("request");
        assert_error(response, 415, "unsupported_content_encoding").await;
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM statuses")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(stored, 0, "nothing was posted");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn sign_up_is_rate_limited_per_ip() {
    let app = spawn_app_with(|s| {
        s.rate_limit.signup_per_minute = 1;
        s.rate_limit.signup_burst = 2;
    })
    .await;
    for _ in 0..2 {
        assert_error(
            app.sign_up(Form::new("ab", "long enough pw", photo()))
                .await,
            422,
            "invalid_username",
        )
        .await;
    }
    let limited = app
        .sign_up(Form::new("ab", "long enough pw", photo()))
        .await;
    assert!(
        limited.headers().get("retry-after").is_some(),
        "Retry-After is set"
    );
    assert_error(limited, 429, "rate_limited").await;
    // Login has its own budget.
    assert_error(
        app.login("nobody_here", "whatever123").await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn every_request_is_rate_limited_per_ip_but_the_health_probes() {
    let app = spawn_app_with(|s| {
        s.rate_limit.requests_per_minute = 1;
        s.rate_limit.requests_burst = 3;
        s.rate_limit.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/timelines/public").await.status(), 200);
    }
    let limited = app.get("/api/v1/timelines/public").await;
    assert!(
        limited.headers().get("retry-after").is_some(),
        "Retry-After is set"
    );
    assert_error(limited, 429, "rate_limited").await;
    // One budget for the whole address: other endpoints and the web app's files too.
    assert_error(app.get("/api/v1/rocks").await, 429, "rate_limited").await;
    assert_error(app.get("/").await, 429, "rate_limited").await;
    for probe in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(app.get(probe).await.status(), 200, "{probe} is not limited");
    }
    // A client behind a trusted proxy has a budget of its own.
    let other = app
        .client
        .get(app.url("/api/v1/timelines/public"))
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn request_logs_carry_the_path_but_never_the_query_string() {
    let app = spawn_app().await;
    let response = app
        .get("/api/v1/accounts/qmark_probe_user?access_token=QSECRET_must_not_be_logged")
        .await;
    assert_eq!(response.status(), 404);
    let logs = String::from_utf8_lossy(&captured_logs()).into_owned();
    assert!(
        logs.contains("/api/v1/accounts/qmark_probe_user"),
        "the request is logged with its path"
    );
    assert!(
        !logs.contains("QSECRET_must_not_be_logged"),
        "a token in the query string reached the logs"
    );
}
