//! Members and requests for the social-layer tests. Members are inserted straight into
//! the fresh test database (sign-up with a real face is covered by the sign-up tests).
use crate::helpers::TestApp;
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery";

pub struct Member {
    pub id: i64,
    pub username: String,
    pub token: String,
}

pub async fn member(app: &TestApp, username: &str) -> Member {
    let id = app.create_account_directly(username, PASSWORD).await;
    let token = app.token_for(username, PASSWORD).await;
    Member {
        id,
        username: username.to_owned(),
        token,
    }
}

/// A response's status, Link header and JSON body.
pub struct Reply {
    pub status: u16,
    pub link: Option<String>,
    pub body: Value,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let link = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("response body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply { status, link, body }
    }

    /// Asserts the status and returns the body.
    pub fn ok(self, expected: u16) -> Value {
        assert_eq!(
            self.status, expected,
            "unexpected status; body {}",
            self.body
        );
        self.body
    }

    pub fn error(self, status: u16, code: &str) -> Value {
        crate::helpers::check_error(self.status, &self.body, status, code);
        self.body
    }

    /// The URL of the Link header's relation `rel` ("next" / "prev").
    pub fn link(&self, rel: &str) -> Option<String> {
        let link = self.link.as_deref()?;
        link.split(',')
            .find(|part| part.contains(&format!("rel=\"{rel}\"")))
            .and_then(|part| {
                let start = part.find('<')? + 1;
                let end = part.find('>')?;
                Some(part[start..end].to_owned())
            })
    }
}

pub async fn get(app: &TestApp, path: &str, token: Option<&str>) -> Reply {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        app.url(path)
    };
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Reply::from(request.send().await.expect("GET")).await
}

pub async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Reply {
    let mut request = app.client.post(app.url(path)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Reply::from(request.send().await.expect("POST")).await
}

/// `POST /api/v1/media` with one multipart `file` part.
pub async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>, mime: &str) -> Reply {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name("photo.jpg")
        .mime_str(mime)
        .expect("mime");
    let form = reqwest::multipart::Form::new().part("file", part);
    Reply::from(
        app.client
            .post(app.url("/api/v1/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("upload"),
    )
    .await
}

pub async fn delete(app: &TestApp, path: &str, token: &str) -> Reply {
    Reply::from(
        app.client
            .delete(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("DELETE"),
    )
    .await
}

/// Posts a status and returns it.
pub async fn post_status(app: &TestApp, who: &Member, text: &str) -> Value {
    post(
        app,
        "/api/v1/statuses",
        Some(&who.token),
        serde_json::json!({ "text": text }),
    )
    .await
    .ok(200)
}

pub async fn reply_to(app: &TestApp, who: &Member, parent: &Value, text: &str) -> Value {
    post(
        app,
        "/api/v1/statuses",
        Some(&who.token),
        serde_json::json!({ "text": text, "in_reply_to_id": parent["id"] }),
    )
    .await
    .ok(200)
}

pub async fn act(app: &TestApp, who: &Member, verb: &str, username: &str) -> Value {
    post(
        app,
        &format!("/api/v1/accounts/{username}/{verb}"),
        Some(&who.token),
        Value::Null,
    )
    .await
    .ok(200)
}

/// Ids of a JSON array of statuses (or accounts, notifications).
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

pub fn texts(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| s["text"].as_str().expect("text").to_owned())
        .collect()
}

/// Follows `next` links from `first` to the end; returns every page's ids.
pub async fn walk_pages(app: &TestApp, first: &str, token: Option<&str>) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = first.to_owned();
    loop {
        let reply = get(app, &url, token).await;
        let next = reply.link("next");
        let body = reply.ok(200);
        let page = ids(&body);
        if page.is_empty() {
            break;
        }
        pages.push(page);
        match next {
            Some(next) => url = next,
            None => break,
        }
        assert!(pages.len() < 1000, "pagination does not end");
    }
    pages
}
