//! Catalog schema: migrations apply to an empty file and are idempotent on reopen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use folio::catalog::Catalog;

#[tokio::test]
async fn migrations_apply_to_an_empty_file_and_reopen_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("catalog.sqlite");
    std::fs::write(&path, b"").unwrap(); // an empty file, as a crash during creation leaves
    let catalog = Catalog::open(&path).await.unwrap();
    assert_eq!(catalog.documents().await.unwrap().len(), 0);
    catalog.set_setting("probe", "1").await.unwrap();
    catalog.close().await;
    let reopened = Catalog::open(&path).await.unwrap();
    assert_eq!(
        reopened.setting("probe").await.unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(reopened.counts().await.unwrap().documents, 0);
}

/// A library made by the first schema (documents only) upgrades in place: its data stays and
/// the conversation tables appear.
#[tokio::test]
async fn a_catalog_of_the_first_schema_is_migrated_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let first_only = tmp.path().join("migrations");
    std::fs::create_dir_all(&first_only).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("migrations/0001_catalog.sql"),
        first_only.join("0001_catalog.sql"),
    )
    .unwrap();
    let path = tmp.path().join("catalog.sqlite");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::migrate::Migrator::new(first_only.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO documents (path, sha256, title, size_bytes, mtime_ns, status, added_at) \
             VALUES ('/old/report.pdf', 'abc', 'Old report', 10, 0, 'damaged', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let catalog = Catalog::open(&path).await.unwrap();
    let documents = catalog.documents().await.unwrap();
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].title, "Old report");
    let id = catalog
        .create_conversation("First question?", &[])
        .await
        .unwrap();
    assert_eq!(
        catalog.conversation(id).await.unwrap().title,
        "First question?"
    );
}
