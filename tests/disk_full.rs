//! A library on a disk that fills up: `folio add` stops with a clear error, the catalog stays
//! readable, earlier documents stay searchable, and once space is freed the same command
//! completes into a consistent library. The disk is a small tmpfs (mounting needs root; CI
//! runs as root).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use folio::{Access, Library};

use support::{folio, is_root};

/// A tmpfs mounted for the test's lifetime, unmounted even when the test fails.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap();
        assert!(status.success(), "mounting a tmpfs at {}", at.display());
        Tmpfs(at.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Documents with enough distinct text that a few of them fill a small disk.
fn write_bulky_pdfs(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut seed = 0x9e37_79b9_u64;
    for d in 0..count {
        let pages: Vec<String> = (0..40)
            .map(|p| {
                (0..220)
                    .map(|w| {
                        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        format!("w{d}p{p}x{w}q{}", seed >> 40)
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let pages: Vec<Vec<&str>> = pages.iter().map(|p| vec![p.as_str()]).collect();
        support::write_pdf(dir, &format!("bulky-{d}.pdf"), &pages);
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_full_disk_stops_the_ingest_clearly_and_loses_nothing() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bulky = tmp.path().join("bulky");
    write_bulky_pdfs(&bulky, 6);
    let library = tmp.path().join("lib");
    let disk = Tmpfs::mount(&library, "2m");

    let samples = support::samples_dir();
    let first = folio(&library, &["add", samples.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));

    // Keyword-only keeps the test fast; the catalog and the keyword index are what fill up.
    let filling = folio(&library, &["add", "--no-embed", bulky.to_str().unwrap()]);
    let message = stderr(&filling);
    assert!(!filling.status.success(), "the disk never filled up");
    assert!(message.contains("is full"), "{message}");
    assert!(message.contains("free some space"), "{message}");

    // Still full: the catalog reads and the earlier documents are found.
    let docs = folio(&library, &["docs", "--json"]);
    assert!(docs.status.success(), "{}", stderr(&docs));
    let listed = String::from_utf8_lossy(&docs.stdout);
    assert!(listed.contains("northwind-travel-policy.pdf"), "{listed}");
    let found = folio(&library, &["search", "daily meal allowance", "--json"]);
    assert!(found.status.success(), "{}", stderr(&found));
    let hit: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&found.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(hit["file"]
        .as_str()
        .unwrap()
        .ends_with("northwind-travel-policy.pdf"));
    assert_eq!(hit["page"], 2);

    // Space freed: the same command completes.
    disk.resize("64m");
    let resumed = folio(&library, &["add", "--no-embed", bulky.to_str().unwrap()]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let library = Library::open(support::paths(&library), Access::Read)
        .await
        .unwrap();
    let documents = library.documents().await.unwrap();
    assert_eq!(documents.len(), 4 + 6);
    let state = library.consistency().await.unwrap();
    assert!(state.is_consistent(), "{state:?}");
}
