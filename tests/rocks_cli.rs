//! `rockstar rocks generate/import` as a user runs them: on the same data folder and
//! embedded PostgreSQL cluster as `rockstar serve`, with no database URL at all.
#![allow(clippy::expect_used)]
mod common;
mod face_support;

use rockstar::embedded::{ClusterOptions, EmbeddedPostgres};
use std::path::Path;
use std::process::Command;

/// Runs the binary from the repository root (models/, vendor/) on `data`, and returns
/// the JSON object it prints last.
fn rockstar(data: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rockstar"))
        .current_dir(common::repo())
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("DATABASE_URL")
        .env_remove("ROCKSTAR_DATABASE__URL")
        .output()
        .expect("run rockstar");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rockstar {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        files_under(&p)
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn gallery_commands_use_the_servers_embedded_database_and_leave_a_running_one_running() {
    if face_support::engine().is_none() {
        return;
    }
    if let Err(e) = rockstar::embedded::find_bindir() {
        eprintln!("SKIP: no PostgreSQL server binaries ({e})");
        return;
    }
    // A data folder with spaces in its path (the cluster's socket path goes through a shell).
    let data = tempfile::Builder::new()
        .prefix("rock star data ")
        .tempdir()
        .expect("temp dir");
    let options = ClusterOptions {
        dir: data.path().join("postgres"),
        durable: false,
    };

    // Nothing running: the command starts the cluster, fills it, and stops it again.
    let first = rockstar(
        data.path(),
        &["rocks", "generate", "--count", "2", "--seed", "7"],
    );
    assert_eq!(first["added"], 2, "{first}");
    assert_eq!(first["gallery"], 2, "{first}");
    let again = rockstar(
        data.path(),
        &["rocks", "generate", "--count", "2", "--seed", "7"],
    );
    assert_eq!(again["added"], 0, "idempotent per seed: {again}");
    assert_eq!(again["gallery"], 2, "the rocks persisted: {again}");
    assert_eq!(
        files_under(&data.path().join("media")),
        4,
        "a photo and a face crop per rock, in the data folder's media store"
    );

    // A server's cluster is running: the command joins it and leaves it running.
    let server_side = {
        let options = options.clone();
        tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&options))
            .await
            .expect("join")
            .expect("start the cluster as a server would")
    };
    assert!(
        !server_side.adopted(),
        "the commands stopped the cluster they had started"
    );
    let pool = sqlx::PgPool::connect(&server_side.url())
        .await
        .expect("connect");
    // Three more rocks: imported from the shared data, or generated without it.
    match common::handful(3) {
        Some((_src, photos, faces)) => {
            let (photos, faces) = (
                photos.to_str().expect("utf-8 path").to_owned(),
                faces.to_str().expect("utf-8 path").to_owned(),
            );
            let report = rockstar(
                data.path(),
                &["rocks", "import", &photos, "--faces", &faces],
            );
            assert_eq!(report["added"], 3, "{report}");
            assert_eq!(
                report["skipped"], 1,
                "the broken file is reported: {report}"
            );
            assert_eq!(report["gallery"], 5, "{report}");
        }
        None => {
            let more = rockstar(
                data.path(),
                &["rocks", "generate", "--count", "3", "--seed", "8"],
            );
            assert_eq!(more["added"], 3, "{more}");
        }
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM rocks")
        .fetch_one(&pool)
        .await
        .expect("the server's database still answers after the command");
    assert_eq!(stored, 5);
    pool.close().await;

    // The other order: a process that joined later outlives the one that started the
    // cluster. Whoever leaves last stops it.
    let joined = {
        let options = options.clone();
        tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&options))
            .await
            .expect("join")
            .expect("join the running cluster")
    };
    assert!(joined.adopted(), "the cluster was running");
    let url = joined.url();
    let (server_side, joined) = tokio::task::spawn_blocking(move || {
        let mut server_side = server_side;
        server_side.stop().map(|()| (server_side, joined))
    })
    .await
    .expect("join")
    .expect("leave");
    let pool = sqlx::PgPool::connect(&url)
        .await
        .expect("the cluster still runs for the process that joined it");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM rocks")
        .fetch_one(&pool)
        .await
        .expect("query");
    assert_eq!(stored, 5);
    pool.close().await;
    drop(server_side);
    tokio::task::spawn_blocking(move || {
        let mut joined = joined;
        joined.stop()
    })
    .await
    .expect("join")
    .expect("stop");
    let after = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await;
    assert!(
        after.is_err(),
        "the last process to leave stopped the cluster"
    );
}
