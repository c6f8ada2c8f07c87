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
