//! Kill `folio add` at random moments; the next run must repair the library and finish it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use folio::{Access, Library};

fn folio(library: &std::path::Path) -> Command {
    let mut command = support::folio_command(library);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    command
}

/// A small xorshift generator: the kill moments differ per run but need no extra crate.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_ingest_is_repaired_and_completed() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    // Each page words its paragraph differently: lines repeated at the edges of most pages
    // would be taken out as running headers and footers, leaving little to ingest.
    let places = [
        "river",
        "marsh",
        "estuary",
        "lagoon",
        "reedbed",
        "floodplain",
    ];
    let paragraphs: Vec<String> = places
        .iter()
        .map(|place| {
            format!(
                "Quarterly field report on wetland birds of the {place}. Observers counted herons, \
                 egrets and kingfishers along the {place}, noting water levels, weather and nesting \
                 activity."
            )
        })
        .collect();
    let paragraph = paragraphs[0].as_str();
    for i in 0..12 {
        let fact =
            format!("Report {i} records the rare bird codename Heron{i:02}x at station {i}.");
        let pages: Vec<Vec<&str>> = (0..6)
            .map(|p| {
                let paragraph = paragraphs[p].as_str();
                if p == 3 {
                    vec![fact.as_str(), paragraph]
                } else {
                    vec![paragraph, paragraph, paragraph]
                }
            })
            .collect();
        support::write_pdf(&docs, &format!("report-{i:02}.pdf"), &pages);
    }
    let library = tmp.path().join("lib");
    let mut seed = Instant::now().elapsed().as_nanos() as u64 | 0x9E37_79B9_7F4A_7C15;
    // Rounds go on until 24 runs were killed mid-ingest (a run may finish before its moment).
    const KILLS: usize = 24;
    const MAX_ROUNDS: usize = 48;
    let (mut kills, mut rounds) = (0, 0);
    // The kill comes at a random moment up to this long after the start. A run that finished
    // first shows that runs are shorter than that here: the window shrinks to where that run's
    // moment fell, so the moments keep landing inside runs however fast the machine ingests.
    let mut window_ms: u64 = 1600;
    while kills < KILLS && rounds < MAX_ROUNDS {
        let round = rounds;
        rounds += 1;
        // A new file each round, so every run has work left to interrupt.
        let extra = format!("Late report {round} mentions the bird Egret{round:02}z.");
        support::write_pdf(
            &docs,
            &format!("late-{round:02}.pdf"),
            &[vec![extra.as_str(), paragraph], vec![paragraph, paragraph]],
        );
        let mut child = folio(&library).arg("add").arg(&docs).spawn().unwrap();
        let delay_ms = 50 + next(&mut seed) % window_ms;
        let delay = Duration::from_millis(delay_ms);
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        } else {
            window_ms = (delay_ms * 3 / 4).max(100);
        }
        child.wait().unwrap();
        // Whatever the moment, opening for writing repairs and leaves a consistent library.
        let repaired = Library::open(support::paths(&library), Access::Write)
            .await
            .unwrap();
        let state = repaired.consistency().await.unwrap();
        assert!(
            state.is_consistent(),
            "after a kill at {delay:?}: {state:?}"
        );
        repaired.close().await;
    }
    assert!(
        kills >= KILLS,
        "only {kills} of {rounds} runs were interrupted; the test proved too little"
    );
    eprintln!("{kills} of {rounds} runs killed mid-ingest; each repaired to a consistent library");
    let status = folio(&library).arg("add").arg(&docs).status().unwrap();
    assert!(status.success());
    let library = Library::open(support::paths(&library), Access::Read)
        .await
        .unwrap();
    let state = library.consistency().await.unwrap();
    assert!(state.is_consistent(), "{state:?}");
    let documents = library.documents().await.unwrap();
    assert_eq!(documents.len(), 12 + rounds);
    assert!(
        documents
            .iter()
            .all(|d| d.status == folio::DocStatus::Indexed),
        "{documents:#?}"
    );
    assert_eq!(state.catalog.pending_chunks, 0);
    for i in [0, 5, 11] {
        let hits = library
            .search(
                &format!("Heron{i:02}x"),
                folio::SearchOptions {
                    mode: folio::SearchMode::Keyword,
                    k: 3,
                    scope: Vec::new(),
                },
            )
            .await
            .unwrap()
            .hits;
        assert_eq!(hits.first().map(|h| h.chunk.page), Some(4), "Heron{i:02}x");
    }
}
