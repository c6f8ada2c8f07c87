//! Every file of `../shared/eval/pdfs-hard/` in one batch: no panic escapes, the batch finishes,
//! each file's outcome agrees with its manifest entry, readable files are searchable, and peak
//! memory stays under 2 GiB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use folio::{AddOptions, Outcome, SearchMode, SearchOptions};

#[derive(serde::Deserialize)]
struct Entry {
    file: String,
    pages: Option<i64>,
    category: Vec<String>,
    needs_password: bool,
    text_chars: i64,
    pdftotext_ok: bool,
}

/// The outcomes a file may fairly get, from what the probes found.
fn acceptable(entry: &Entry) -> &'static [&'static str] {
    let has = |c: &str| entry.category.iter().any(|x| x == c);
    if entry.needs_password {
        &["encrypted"]
    } else if entry.pages.is_none() {
        // Unopenable for pdfinfo; some are not PDFs at all, and a recovering reader may
        // still save some pages of a truncated one.
        &["damaged", "not a PDF", "indexed"]
    } else if has("damaged") {
        &["indexed", "no text layer", "damaged"] // a recovering reader may do better than qpdf
    } else if entry.text_chars == 0 && entry.pdftotext_ok {
        &["no text layer"]
    } else {
        &["indexed"]
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_hard_file_gets_the_outcome_its_manifest_predicts() {
    let Some(eval) = support::eval_dir() else {
        assert!(
            std::env::var_os("FOLIO_REQUIRE_EVAL").is_none(),
            "../shared/eval is missing"
        );
        eprintln!("skipped: ../shared/eval not found (set FOLIO_EVAL_DIR)");
        return;
    };
    let corpus = eval.join("pdfs-hard");
    let manifest = std::fs::read_to_string(corpus.join("manifest.jsonl")).unwrap();
    let entries: Vec<Entry> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut library = support::open_writer(tmp.path()).await;
    // Extraction robustness is the point here; vectors are covered by the other tests.
    let options = AddOptions {
        embed: false,
        ..AddOptions::default()
    };
    let started = std::time::Instant::now();
    let report = library
        .add(&[corpus.join("files")], &options, &|_| {})
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();

    assert_eq!(
        report.files.len(),
        entries.len(),
        "every file gets exactly one outcome"
    );
    let mut wrong = Vec::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut readers: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &entries {
        let path: PathBuf = corpus.join(&entry.file);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let file = report
            .files
            .iter()
            .find(|f| f.file.ends_with(&format!("/{name}")))
            .unwrap_or_else(|| panic!("no outcome for {name}"));
        let label = file.outcome.label();
        *tally.entry(label.to_string()).or_default() += 1;
        if !file.extractor.is_empty() {
            *readers.entry(file.extractor.clone()).or_default() += 1;
        }
        if !acceptable(entry).contains(&label) {
            wrong.push(format!(
                "{name}: got {label} ({:?}), manifest {:?}",
                file.warnings, entry.category
            ));
        }
        let intact = entry.pages.is_some() && !entry.category.iter().any(|c| c == "damaged");
        if file.outcome == Outcome::Indexed && intact && Some(file.pages as i64) != entry.pages {
            wrong.push(format!(
                "{name}: {} pages read, pdfinfo says {:?}",
                file.pages, entry.pages
            ));
        }
    }
    // This test is its own process, so the peak is the batch's (plus the test harness).
    let peak_rss_mib = folio::system::peak_rss_bytes().unwrap_or(0) >> 20;
    eprintln!(
        "{} files in {seconds:.1}s, {} pages; outcomes {tally:?}; readers {readers:?}; peak RSS {peak_rss_mib} MiB",
        report.files.len(),
        report.pages_extracted
    );
    assert!(peak_rss_mib < 2048, "peak RSS {peak_rss_mib} MiB");
    assert!(
        wrong.is_empty(),
        "{} files with an unexpected outcome:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // Readable files are searchable: a word from each document's text finds that document.
    let state = library.consistency().await.unwrap();
    assert!(state.is_consistent(), "{state:?}");
    let mut unsearchable = Vec::new();
    for file in report
        .files
        .iter()
        .filter(|f| f.outcome == Outcome::Indexed)
    {
        let id = file.document_id.unwrap();
        let mut word = None;
        for page in 1..=file.pages as i64 {
            let text = library
                .catalog()
                .page_text(id, page)
                .await
                .unwrap()
                .unwrap_or_default();
            word = text
                .split(|c: char| !c.is_alphanumeric())
                .find(|w| w.chars().count() >= 5 && w.chars().all(|c| c.is_alphabetic()))
                .map(str::to_string);
            if word.is_some() {
                break;
            }
        }
        let Some(word) = word else { continue }; // only short tokens or digits: nothing to look for
        let hits = library
            .search(
                &word,
                SearchOptions {
                    mode: SearchMode::Keyword,
                    k: 1,
                    scope: vec![id],
                },
            )
            .await
            .unwrap()
            .hits;
        if hits.is_empty() {
            unsearchable.push(format!("{}: {word:?}", file.file));
        }
    }
    assert!(
        unsearchable.is_empty(),
        "indexed but not found by keyword:\n{}",
        unsearchable.join("\n")
    );
}
