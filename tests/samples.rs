//! The committed sample PDFs are exactly what the generator makes from `support/samples.rs`,
//! so the facts the tests look up are really on the pages they name.
//! Regenerate with `FOLIO_WRITE_SAMPLES=1 cargo test --test samples`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use support::samples::SAMPLES;

#[test]
fn committed_samples_match_their_source() {
    let dir = support::samples_dir();
    let write = std::env::var_os("FOLIO_WRITE_SAMPLES").is_some();
    for sample in SAMPLES {
        let path = dir.join(sample.file);
        let expected = support::sample_pdf(sample);
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == expected,
            "{} differs from its source; regenerate",
            path.display()
        );
    }
}
