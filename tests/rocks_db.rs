//! The rocks table: idempotent insert, keyset pages, member counts.
mod common;

use rockstar::db::rocks::{self, NewRock};

fn rock<'a>(key: &'a str, embedding: &'a [f32]) -> NewRock<'a> {
    NewRock {
        source_key: key,
        name: "Rock",
        photo_key: "rocks/p.jpg",
        face_key: "rocks/f.jpg",
        embedding,
        source: "imported",
        source_digest: None,
    }
}

#[tokio::test]
async fn insert_is_idempotent_and_pages_follow_ids() -> anyhow::Result<()> {
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let e = [0.25f32, -1.5, 3.0];
    let a = rocks::insert(&pool, &rock("import:a", &e))
        .await?
        .ok_or_else(|| anyhow::anyhow!("a not inserted"))?;
    assert_eq!(rocks::insert(&pool, &rock("import:a", &e)).await?, None);
    let b = rocks::insert(&pool, &rock("import:b", &e))
        .await?
        .ok_or_else(|| anyhow::anyhow!("b not inserted"))?;
    let c = rocks::insert(&pool, &rock("import:c", &e))
        .await?
        .ok_or_else(|| anyhow::anyhow!("c not inserted"))?;
    assert_eq!(rocks::count(&pool).await?, 3);
    assert_eq!(rocks::embedding(&pool, b).await?, Some(e.to_vec()));
    let first: Vec<i64> = rocks::page(&pool, 0, 2)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(first, vec![a, b]);
    let next: Vec<i64> = rocks::page(&pool, b, 2)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(next, vec![c]);
    let existing =
        rocks::existing_source_keys(&pool, &["import:a".into(), "import:zzz".into()]).await?;
    assert_eq!(existing, vec!["import:a".to_string()]);
    assert!(rocks::get(&pool, 999_999).await?.is_none());
    // A source outside the two kinds is refused by the table.
    assert!(rocks::insert(
        &pool,
        &NewRock {
            source: "other",
            ..rock("import:d", &e)
        }
    )
    .await
    .is_err());
    Ok(())
}

#[tokio::test]
async fn member_counts_read_accounts() -> anyhow::Result<()> {
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let e = [1.0f32];
    let a = rocks::insert(&pool, &rock("import:a", &e))
        .await?
        .ok_or_else(|| anyhow::anyhow!("not inserted"))?;
    let b = rocks::insert(&pool, &rock("import:b", &e))
        .await?
        .ok_or_else(|| anyhow::anyhow!("not inserted"))?;
    assert_eq!(rocks::member_count(&pool, a).await?, 0);
    assert!(rocks::member_counts(&pool, &[a, b]).await?.is_empty());
    // Three members, two on rock a.
    for (i, r) in [a, a, b].into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO accounts (username, password_hash, rock_id, rock_embedding, rock_similarity)
             SELECT $1, 'x', id, embedding, 0.5 FROM rocks WHERE id = $2",
        )
        .bind(format!("member_{i}"))
        .bind(r)
        .execute(&pool)
        .await?;
    }
    assert_eq!(rocks::member_count(&pool, a).await?, 2);
    let counts = rocks::member_counts(&pool, &[a, b]).await?;
    assert_eq!((counts.get(&a), counts.get(&b)), (Some(&2), Some(&1)));
    Ok(())
}
