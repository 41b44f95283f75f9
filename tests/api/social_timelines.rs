//! Timelines: who sees what, keyset pagination without gaps or duplicates while posts
//! arrive, and a constant number of SQL queries per page.
use crate::helpers::spawn_app;
use crate::social_helpers::*;
use std::collections::HashSet;

#[tokio::test]
async fn home_public_profile_and_rock_timelines_hold_the_right_statuses() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    let cat = member(&app, "cat").await;
    act(&app, &ann, "follow", "bob").await;

    post_status(&app, &ann, "ann 1").await;
    post_status(&app, &bob, "bob 1").await;
    post_status(&app, &cat, "cat 1").await;
    post_status(&app, &bob, "bob 2").await;

    let home = get(&app, "/api/v1/timelines/home", Some(&ann.token))
        .await
        .ok(200);
    assert_eq!(
        texts(&home),
        vec!["bob 2", "bob 1", "ann 1"],
        "own + followed, newest first"
    );
    for status in home.as_array().expect("array") {
        assert!(
            status["account"]["rock"]["image_url"].is_string(),
            "each status embeds its author's rock"
        );
        assert!(status["account"]["relationship"].is_object());
    }
    let cat_home = get(&app, "/api/v1/timelines/home", Some(&cat.token))
        .await
        .ok(200);
    assert_eq!(texts(&cat_home), vec!["cat 1"]);
    get(&app, "/api/v1/timelines/home", None)
        .await
        .error(401, "unauthorized");

    let public = get(&app, "/api/v1/timelines/public", None).await.ok(200);
    assert_eq!(texts(&public), vec!["bob 2", "cat 1", "bob 1", "ann 1"]);

    let profile = get(&app, "/api/v1/accounts/bob/statuses", None)
        .await
        .ok(200);
    assert_eq!(texts(&profile), vec!["bob 2", "bob 1"]);
    get(&app, "/api/v1/accounts/nobody/statuses", None)
        .await
        .error(404, "not_found");

    // Everyone here shares the fixture rock; a second rock has its own members.
    let rock_id = home[0]["account"]["rock"]["id"]
        .as_str()
        .expect("rock id")
        .to_owned();
    let members = get(
        &app,
        &format!("/api/v1/rocks/{rock_id}/members"),
        Some(&ann.token),
    )
    .await
    .ok(200);
    let mut names: Vec<&str> = members
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["username"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, vec!["ann", "bob", "cat"]);
    let other_rock: i64 = sqlx::query_scalar(
        "INSERT INTO rocks (source_key, name, photo_key, face_key, embedding, source) \
         VALUES ('test:other', 'Other Rock', 'rocks/o.jpg', 'rocks/o_face.jpg', ARRAY[0.5]::real[], 'imported') RETURNING id",
    )
    .fetch_one(&app.db)
    .await
    .expect("second rock");
    let empty = get(&app, &format!("/api/v1/rocks/{other_rock}/members"), None)
        .await
        .ok(200);
    assert_eq!(empty, serde_json::json!([]));
    get(&app, "/api/v1/rocks/987654/members", None)
        .await
        .error(404, "rock_not_found");
}

#[tokio::test]
async fn paging_has_no_gaps_or_duplicates_while_new_posts_arrive() {
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;
    act(&app, &ann, "follow", "bob").await;
    let mut posted = Vec::new();
    for n in 0..23 {
        let who = if n % 2 == 0 { &ann } else { &bob };
        posted.push(
            post_status(&app, who, &format!("old {n}")).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }

    for path in [
        "/api/v1/timelines/home?limit=5",
        "/api/v1/timelines/public?limit=5",
    ] {
        let mut seen: Vec<String> = Vec::new();
        let mut url = path.to_owned();
        let mut newest_link = None;
        let mut arrived = 0;
        loop {
            let reply = get(&app, &url, Some(&ann.token)).await;
            if newest_link.is_none() {
                newest_link = reply.link("prev");
            }
            let next = reply.link("next");
            let page = ids(&reply.ok(200));
            assert!(page.len() <= 5);
            seen.extend(page);
            // New posts arrive between page fetches.
            post_status(&app, &bob, &format!("new {arrived}")).await;
            arrived += 1;
            match next {
                Some(n) => {
                    assert!(n.starts_with("/api/v1/"), "links are relative: {n}");
                    url = n
                }
                None => break,
            }
        }
        let mut expected = posted.clone();
        expected.reverse();
        assert_eq!(
            seen, expected,
            "{path}: every old post exactly once, newest first"
        );

        // Paging forward from the first page's newest post (rel=prev, min_id) reaches every
        // new post exactly once, in order, however many arrived.
        let mut newer: Vec<String> = Vec::new();
        let mut url = newest_link.expect("a prev link");
        loop {
            let reply = get(&app, &url, Some(&ann.token)).await;
            let prev = reply.link("prev");
            let next = reply.link("next");
            let page = ids(&reply.ok(200));
            if page.is_empty() {
                break;
            }
            // However short, a min_id page has older posts behind it.
            let oldest = page.last().expect("non-empty");
            assert!(
                next.as_deref()
                    .is_some_and(|n| n.contains(&format!("max_id={oldest}&"))),
                "{path}: a min_id page links to the older posts: {next:?}"
            );
            let mut page_oldest_first = page.clone();
            page_oldest_first.reverse();
            newer.extend(page_oldest_first);
            url = prev.expect("a non-empty page has a prev link");
        }
        let unique: HashSet<&String> = newer.iter().collect();
        assert_eq!(
            unique.len(),
            newer.len(),
            "{path}: no duplicates paging forward"
        );
        assert_eq!(newer.len(), arrived, "{path}: all {arrived} new posts seen");
        let as_numbers: Vec<i64> = newer.iter().map(|i| i.parse().expect("numeric")).collect();
        assert!(
            as_numbers.windows(2).all(|w| w[0] < w[1]),
            "{path}: oldest to newest"
        );
        posted.extend(newer);
        posted.sort_by_key(|i| i.parse::<i64>().unwrap_or(0));
    }

    // since_id: the newest page above an id; max_id + since_id (or min_id) bound both ends.
    // Every feed, signed in and not: each numbers its SQL parameters differently.
    for (path, token) in [
        ("/api/v1/timelines/public", Some(ann.token.as_str())),
        ("/api/v1/timelines/home", Some(ann.token.as_str())),
        ("/api/v1/timelines/public", None),
        ("/api/v1/accounts/bob/statuses", Some(ann.token.as_str())),
        ("/api/v1/accounts/bob/statuses", None),
    ] {
        let all = ids(&get(&app, &format!("{path}?limit=40"), token).await.ok(200));
        assert!(all.len() > 6, "{path}: {all:?}");
        let read = |query: String| {
            let app = &app;
            async move { ids(&get(app, &format!("{path}?{query}"), token).await.ok(200)) }
        };
        assert_eq!(
            read(format!("max_id={}&since_id={}", all[2], all[6])).await,
            all[3..6].to_vec(),
            "{path}: max_id and since_id"
        );
        assert_eq!(
            read(format!("max_id={}&min_id={}", all[2], all[6])).await,
            all[3..6].to_vec(),
            "{path}: max_id and min_id"
        );
        assert_eq!(
            read(format!("max_id={}&limit=2", all[2])).await,
            all[3..5].to_vec(),
            "{path}: max_id"
        );
        assert_eq!(
            read(format!("since_id={}&limit=2", all[6])).await,
            all[0..2].to_vec(),
            "{path}: since_id pages from the top"
        );
        assert_eq!(
            read(format!("min_id={}&limit=2", all[6])).await,
            all[4..6].to_vec(),
            "{path}: min_id pages from just above it"
        );
    }
    let limit = get(&app, "/api/v1/timelines/public?limit=41", None).await;
    limit.error(400, "invalid_parameter");
}

/// Counts SQL statements with pg_stat_statements in a private cluster that preloads it.
#[tokio::test]
async fn a_timeline_page_costs_the_same_number_of_queries_whatever_its_size() {
    let Some(counter) = crate::social_query_counter::QueryCounter::start().await else {
        return;
    };
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.database.url = Some(secrecy::SecretString::from(counter.app_url()));
    })
    .await;
    let db = counter.app_pool().await;
    let make = |name: &'static str| {
        let db = db.clone();
        async move { crate::social_query_counter::insert_member(&db, name).await }
    };
    let ann_id = make("ann").await;
    let bob_id = make("bob").await;
    make("cat").await;
    let ann_token = app.token_for("ann", PASSWORD).await;
    let bob_token = app.token_for("bob", PASSWORD).await;
    let bob = Member {
        id: bob_id,
        username: "bob".into(),
        token: bob_token,
    };
    let ann = Member {
        id: ann_id,
        username: "ann".into(),
        token: ann_token,
    };
    act(&app, &ann, "follow", "bob").await;
    act(&app, &ann, "follow", "cat").await;
    // Varied statuses: replies, mentions, favourites, so every per-status column has work.
    let mut last = post_status(&app, &bob, "first @ann").await;
    for n in 0..45 {
        last = if n % 3 == 0 {
            reply_to(&app, &ann, &last, &format!("re {n} @bob")).await
        } else {
            post_status(&app, &bob, &format!("post {n} @cat")).await
        };
        if n % 4 == 0 {
            post(
                &app,
                &format!(
                    "/api/v1/statuses/{}/favourite",
                    last["id"].as_str().expect("id")
                ),
                Some(&ann.token),
                serde_json::Value::Null,
            )
            .await
            .ok(200);
        }
    }

    let mut figures = Vec::new();
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/accounts/bob/statuses",
        "/api/v1/notifications",
    ] {
        let mut per_size = Vec::new();
        for limit in [1, 5, 20, 40] {
            let url = format!("{path}?limit={limit}");
            get(&app, &url, Some(&bob.token)).await.ok(200); // warm: connections, prepared statements
            let before = counter.calls().await;
            let body = get(&app, &url, Some(&bob.token)).await.ok(200);
            let after = counter.calls().await;
            let returned = body.as_array().map(|a| a.len()).unwrap_or(0);
            per_size.push((limit, returned, after - before));
        }
        println!("{path}: (limit, items, SQL statements) = {per_size:?}");
        let counts: HashSet<i64> = per_size.iter().map(|p| p.2).collect();
        assert_eq!(
            counts.len(),
            1,
            "{path}: the query count depends on the page size: {per_size:?}"
        );
        assert!(
            per_size.iter().any(|p| p.1 >= 20),
            "{path}: a large page was measured: {per_size:?}"
        );
        figures.push((path, per_size[0].2));
    }
    println!("checked with pg_stat_statements: SQL statements per page (incl. the token check) = {figures:?}");
}

/// How many rows other connections can see.
async fn committed(app: &crate::helpers::TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.db)
        .await
        .expect("count")
}

/// For two seconds, checks that `count_sql` sees nothing committed: the writer behind it
/// must wait for the earlier id still in flight.
async fn stays_uncommitted(app: &crate::helpers::TestApp, count_sql: &str, what: &str) {
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let seen = committed(app, count_sql).await;
        assert_eq!(
            seen, 0,
            "{what} committed while an earlier id was in flight"
        );
    }
}

#[tokio::test]
async fn a_post_never_commits_ahead_of_an_earlier_one_still_in_flight() {
    use rockstar::db::id_order;
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let bob = member(&app, "bob").await;

    // A slow writer: it holds its status id, not yet committed, as a slow request would.
    let mut slow = app.db.begin().await.expect("transaction");
    id_order::lock(&mut *slow, id_order::STATUSES)
        .await
        .expect("lock");
    let slow_id: i64 = sqlx::query_scalar(
        "INSERT INTO statuses (account_id, text) VALUES ($1, 'slow') RETURNING id",
    )
    .bind(ann.id)
    .fetch_one(&mut *slow)
    .await
    .expect("insert");

    // Bob posts meanwhile. Were his post to commit first, with its larger id, a client
    // polling with since_id = his id would never be shown Ann's.
    let quick = tokio::spawn(
        app.client
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&bob.token)
            .json(&serde_json::json!({ "text": "quick" }))
            .send(),
    );
    stays_uncommitted(
        &app,
        "SELECT count(*) FROM statuses WHERE text = 'quick'",
        "the later post",
    )
    .await;
    slow.commit().await.expect("commit");

    let quick = quick.await.expect("task").expect("POST");
    assert_eq!(quick.status(), 200);
    let body: serde_json::Value = quick.json().await.expect("JSON");
    let quick_id: i64 = body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    assert!(quick_id > slow_id, "{quick_id} after {slow_id}");
    let newer = get(
        &app,
        &format!("/api/v1/timelines/public?since_id={slow_id}"),
        Some(&ann.token),
    )
    .await
    .ok(200);
    assert_eq!(texts(&newer), ["quick"]);

    // The same for notifications, which a follow inserts in a statement of its own.
    let mut slow = app.db.begin().await.expect("transaction");
    id_order::lock(&mut *slow, id_order::NOTIFICATIONS)
        .await
        .expect("lock");
    let follow = tokio::spawn(
        app.client
            .post(app.url("/api/v1/accounts/ann/follow"))
            .bearer_auth(&bob.token)
            .send(),
    );
    let follows = "SELECT count(*) FROM notifications WHERE type = 'follow'";
    stays_uncommitted(&app, follows, "a notification").await;
    slow.commit().await.expect("commit");
    let follow = follow.await.expect("task").expect("POST");
    assert_eq!(follow.status(), 200);
    let told = committed(&app, follows).await;
    assert_eq!(told, 1);
}
