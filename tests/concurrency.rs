//! Several processes on one library: while `folio add` runs, `folio search` and `folio ask`
//! work (readers take no lock) and a second `folio add` is told the library is busy; the add
//! then finishes and the library is consistent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use folio::{Access, Library};

const TINY: &str = "SmolLM2-135M-Instruct.Q4_1";

use support::{folio as run, folio_command as folio};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn readers_work_and_a_second_writer_is_told_busy_while_an_add_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("lib");
    let first = tmp.path().join("first");
    std::fs::create_dir(&first).unwrap();
    support::write_pdf(
        &first,
        "lighthouse.pdf",
        &[vec![
            "The Kestrel Point lighthouse keeper logs the lamp hours every night at 22:00.",
        ]],
    );
    assert!(run(&library, &["add", first.to_str().unwrap()])
        .status
        .success());

    // Enough pages that embedding keeps the writer busy for a while.
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let paragraph = "Survey notes on coastal erosion: cliff retreat, shingle movement, storm \
                     surges and the groynes that hold the beach, measured at fixed stakes.";
    for i in 0..48 {
        let fact = format!("Survey {i} places marker Stake{i:02}q at the north groyne.");
        let pages: Vec<Vec<&str>> = (0..10)
            .map(|p| {
                if p == 2 {
                    vec![fact.as_str(), paragraph]
                } else {
                    vec![paragraph; 6]
                }
            })
            .collect();
        support::write_pdf(&docs, &format!("survey-{i:02}.pdf"), &pages);
    }
    let mut add = folio(&library)
        .args(["add", docs.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Once the first add has stored a document it holds the library...
    let started = Instant::now();
    while !text(&run(&library, &["docs", "--json"]).stdout).contains("survey-") {
        assert!(add.try_wait().unwrap().is_none(), "the add ended early");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the add stored nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // ...and a second writer is refused with "busy".
    let extra = tmp.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    support::write_pdf(&extra, "extra.pdf", &[vec!["An extra page."]]);
    let busy = run(&library, &["add", extra.to_str().unwrap()]);
    assert!(!busy.status.success());
    assert!(
        text(&busy.stderr).contains("busy: another Folio process"),
        "{}",
        text(&busy.stderr)
    );

    // Readers meanwhile: keyword/hybrid search and an answer with the tiny model.
    let search = run(
        &library,
        &["search", "lamp hours lighthouse keeper", "--json"],
    );
    assert!(search.status.success(), "{}", text(&search.stderr));
    assert!(text(&search.stdout).contains("lighthouse.pdf"));
    let ask = run(
        &library,
        &[
            "ask",
            "When does the lighthouse keeper log the lamp hours?",
            "--model",
            TINY,
            "--json",
        ],
    );
    assert!(ask.status.success(), "{}", text(&ask.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&ask.stdout).unwrap();
    assert_eq!(answer["model"], TINY);
    if let Some(status) = add.try_wait().unwrap() {
        let output = add.wait_with_output().unwrap();
        panic!(
            "the add ended ({status}) before the readers were done, so this run proved nothing \
             about concurrency: {}",
            text(&output.stderr)
        );
    }

    // The writer finishes undisturbed and everything is where it should be.
    assert!(add.wait().unwrap().success());
    let docs_json = run(&library, &["docs", "--json"]);
    let listed = text(&docs_json.stdout);
    assert_eq!(listed.matches("survey-").count(), 48, "{listed}");
    let library = Library::open(support::paths(&library), Access::Write)
        .await
        .unwrap();
    let state = library.consistency().await.unwrap();
    assert!(state.is_consistent(), "{state:?}");
    assert_eq!(state.catalog.documents, 49);
}
