//! The core end to end on real components: sample PDFs → SQLite catalog, tantivy and LanceDB
//! in a temp dir, the real all-MiniLM-L6-v2 embedder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::path::{Path, PathBuf};

use sha2::Digest;

use folio::{Access, AddOptions, Error, Library, Outcome, SearchMode, SearchOptions};
use support::samples::FACTS;

async fn add(library: &mut Library, paths: &[&Path]) -> folio::AddReport {
    let paths: Vec<_> = paths.iter().map(|p| p.to_path_buf()).collect();
    library
        .add(&paths, &AddOptions::default(), &|_| {})
        .await
        .unwrap()
}

fn outcome_of<'a>(report: &'a folio::AddReport, name: &str) -> &'a Outcome {
    &report
        .files
        .iter()
        .find(|f| f.file.ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in report"))
        .outcome
}

/// The ten best keyword hits for a query.
async fn keyword_search(library: &Library, query: &str) -> folio::SearchResults {
    let options = SearchOptions {
        mode: SearchMode::Keyword,
        k: 10,
        scope: Vec::new(),
    };
    library.search(query, options).await.unwrap()
}

/// Top-`k` (file name, page) pairs for a query.
async fn top(library: &Library, query: &str, mode: SearchMode, k: usize) -> Vec<(String, i64)> {
    let results = library
        .search(
            query,
            SearchOptions {
                mode,
                k,
                scope: Vec::new(),
            },
        )
        .await
        .unwrap();
    results
        .hits
        .iter()
        .map(|h| {
            let name = Path::new(&h.chunk.file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, h.chunk.page)
        })
        .collect()
}

async fn assert_consistent(library: &Library) {
    let state = library.consistency().await.unwrap();
    assert!(
        state.is_consistent(),
        "indexes disagree with the catalog: {state:?}"
    );
}

#[tokio::test]
async fn sample_facts_are_found_on_their_page_in_every_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let mut library = support::open_writer(tmp.path()).await;
    let report = add(&mut library, &[&support::samples_dir()]).await;
    assert_eq!(report.files.len(), 4);
    assert!(
        report.files.iter().all(|f| f.outcome == Outcome::Indexed),
        "{:#?}",
        report.files
    );
    assert_eq!(report.chunks_waiting_for_vectors, 0);
    assert_consistent(&library).await;
    for fact in FACTS {
        let want = (fact.file.to_string(), fact.page);
        for (mode, query) in [
            (SearchMode::Keyword, fact.keyword_query),
            (SearchMode::Vector, fact.paraphrase),
            (SearchMode::Hybrid, fact.keyword_query),
            (SearchMode::Hybrid, fact.paraphrase),
        ] {
            let hits = top(&library, query, mode, 3).await;
            assert!(
                hits.contains(&want),
                "{mode:?} {query:?}: want {want:?} in top 3, got {hits:?}"
            );
        }
    }
    // Hits carry exact spans into the page text and highlight query terms.
    let results = library
        .search(
            "error code E17",
            SearchOptions {
                mode: SearchMode::Keyword,
                k: 1,
                scope: Vec::new(),
            },
        )
        .await
        .unwrap();
    let hit = &results.hits[0];
    let page = library
        .catalog()
        .page_text(hit.chunk.document_id, hit.chunk.page)
        .await
        .unwrap()
        .unwrap();
    let span: String = page
        .chars()
        .skip(hit.chunk.char_start as usize)
        .take((hit.chunk.char_end - hit.chunk.char_start) as usize)
        .collect();
    assert_eq!(span, hit.chunk.text);
    assert!(!hit.highlights.is_empty());

    // A scope of several documents keeps every hit inside them and still finds their facts.
    let scope = library
        .find_documents(&[
            "northwind-travel-policy.pdf".to_string(),
            "sourdough-baking-guide.pdf".to_string(),
        ])
        .await
        .unwrap();
    assert_eq!(scope.len(), 2);
    for mode in [SearchMode::Keyword, SearchMode::Vector, SearchMode::Hybrid] {
        let results = library
            .search(
                "daily meal allowance for the dough and the inverter error code E17",
                SearchOptions {
                    mode,
                    k: 10,
                    scope: scope.clone(),
                },
            )
            .await
            .unwrap();
        assert!(!results.hits.is_empty(), "{mode:?}: no hit in the scope");
        assert!(
            results
                .hits
                .iter()
                .all(|h| scope.contains(&h.chunk.document_id)),
            "{mode:?}: a hit outside the scope: {:?}",
            results
                .hits
                .iter()
                .map(|h| &h.chunk.file)
                .collect::<Vec<_>>()
        );
        assert!(
            results
                .hits
                .iter()
                .any(|h| h.chunk.file.ends_with("northwind-travel-policy.pdf")),
            "{mode:?}: the travel policy's allowance not found"
        );
    }
}

#[tokio::test]
async fn readding_is_a_no_op_and_a_changed_file_is_updated_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    support::write_pdf(
        &docs,
        "alpha.pdf",
        &[
            vec!["The alpha project code name is Bluefinch."],
            vec!["Second page of alpha."],
        ],
    );
    support::write_pdf(
        &docs,
        "beta.pdf",
        &[vec!["The beta budget is 12,500 euros."]],
    );
    std::fs::write(docs.join("notes.txt"), "not a pdf").unwrap();
    let mut library = support::open_writer(&tmp.path().join("lib")).await;

    let first = add(&mut library, &[&docs]).await;
    assert_eq!(outcome_of(&first, "alpha.pdf"), &Outcome::Indexed);
    assert_eq!(outcome_of(&first, "beta.pdf"), &Outcome::Indexed);
    assert_eq!(first.skipped_non_pdf, 1);

    let again = add(&mut library, &[&docs]).await;
    assert!(
        again.files.iter().all(|f| f.outcome == Outcome::Unchanged),
        "{:#?}",
        again.files
    );
    assert_eq!(library.documents().await.unwrap().len(), 2);

    // Same content under another name is a duplicate, not a second document.
    std::fs::copy(docs.join("beta.pdf"), docs.join("beta-copy.pdf")).unwrap();
    // A changed file replaces its old chunks.
    support::write_pdf(
        &docs,
        "alpha.pdf",
        &[vec!["The alpha project code name is now Redstart."]],
    );
    let changed = add(&mut library, &[&docs]).await;
    assert_eq!(outcome_of(&changed, "alpha.pdf"), &Outcome::Updated);
    assert_eq!(outcome_of(&changed, "beta.pdf"), &Outcome::Unchanged);
    assert!(
        matches!(outcome_of(&changed, "beta-copy.pdf"), Outcome::Duplicate { of } if of.ends_with("beta.pdf"))
    );
    assert_eq!(library.documents().await.unwrap().len(), 2);
    assert_eq!(
        top(&library, "Redstart", SearchMode::Keyword, 3).await,
        vec![("alpha.pdf".to_string(), 1)]
    );
    assert!(top(&library, "Bluefinch", SearchMode::Keyword, 3)
        .await
        .is_empty());
    assert_consistent(&library).await;
}

#[tokio::test]
async fn syncing_a_watched_folder_follows_renames_and_deletions() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    support::write_pdf(
        &docs,
        "gamma.pdf",
        &[vec!["Gamma rays are logged by Kestrel."]],
    );
    support::write_pdf(
        &docs.join("sub"),
        "delta.pdf",
        &[vec!["Delta wing tests use the Osprey rig."]],
    );
    let outside = tmp.path().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    support::write_pdf(&outside, "omega.pdf", &[vec!["Omega stays put."]]);
    let mut library = support::open_writer(&tmp.path().join("lib")).await;
    add(&mut library, &[&docs, &outside]).await;
    assert_eq!(library.documents().await.unwrap().len(), 3);

    // A rename and a deletion inside the folder; a file outside it is left alone even when gone.
    std::fs::rename(docs.join("gamma.pdf"), docs.join("gamma-renamed.pdf")).unwrap();
    std::fs::remove_file(docs.join("sub/delta.pdf")).unwrap();
    std::fs::remove_file(outside.join("omega.pdf")).unwrap();
    let (report, removed) = library
        .sync_folder(&docs, &AddOptions::default(), &|_| {})
        .await
        .unwrap();
    let mut removed: Vec<String> = removed.iter().map(|d| d.title.clone()).collect();
    removed.sort();
    assert_eq!(removed, vec!["delta", "gamma"]);
    assert_eq!(outcome_of(&report, "gamma-renamed.pdf"), &Outcome::Indexed);
    let files: Vec<String> = library
        .documents()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.file)
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("gamma-renamed.pdf")));
    assert!(files.iter().any(|f| f.ends_with("omega.pdf")));
    assert_eq!(
        top(&library, "Kestrel", SearchMode::Keyword, 3).await,
        vec![("gamma-renamed.pdf".to_string(), 1)]
    );
    assert!(top(&library, "Osprey", SearchMode::Keyword, 3)
        .await
        .is_empty());
    assert_consistent(&library).await;

    // Nothing changed: a second sync reads nothing and removes nothing.
    let (again, removed) = library
        .sync_folder(&docs, &AddOptions::default(), &|_| {})
        .await
        .unwrap();
    assert!(removed.is_empty());
    assert!(again.files.iter().all(|f| f.outcome == Outcome::Unchanged));
}

#[tokio::test]
async fn removing_a_document_removes_it_from_both_indexes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut library = support::open_writer(tmp.path()).await;
    add(&mut library, &[&support::samples_dir()]).await;
    let doc = library
        .find_document("northwind-travel-policy.pdf")
        .await
        .unwrap();
    library.remove_document(doc.id).await.unwrap();
    assert_consistent(&library).await;
    for mode in [SearchMode::Keyword, SearchMode::Vector, SearchMode::Hybrid] {
        let hits = top(&library, "daily meal allowance euros", mode, 10).await;
        assert!(
            hits.iter()
                .all(|(file, _)| file != "northwind-travel-policy.pdf"),
            "{mode:?}: {hits:?}"
        );
    }
    assert!(matches!(
        library.find_document("northwind").await,
        Err(Error::NoSuchDocument(_))
    ));
}

#[tokio::test]
async fn reindex_rebuilds_both_indexes_from_the_catalog() {
    let tmp = tempfile::tempdir().unwrap();
    let mut library = support::open_writer(tmp.path()).await;
    add(&mut library, &[&support::samples_dir()]).await;
    let before = top(&library, "eyewash station", SearchMode::Hybrid, 3).await;
    library.reindex().await.unwrap();
    assert!(library.counts().await.unwrap().pending_chunks > 0);
    library.embed_pending(&|_| {}).await.unwrap();
    assert_consistent(&library).await;
    assert_eq!(
        top(&library, "eyewash station", SearchMode::Hybrid, 3).await,
        before
    );
}

#[tokio::test]
async fn a_second_writer_is_told_the_library_is_busy_and_readers_still_work() {
    let tmp = tempfile::tempdir().unwrap();
    let mut writer = support::open_writer(tmp.path()).await;
    add(&mut writer, &[&support::samples_dir()]).await;
    let second = Library::open(support::paths(tmp.path()), Access::Write).await;
    assert!(
        matches!(second, Err(Error::Busy(_))),
        "second writer must be refused"
    );
    let reader = Library::open(support::paths(tmp.path()), Access::Read)
        .await
        .unwrap();
    assert!(!top(&reader, "sourdough starter", SearchMode::Keyword, 3)
        .await
        .is_empty());
    drop(writer);
    assert!(Library::open(support::paths(tmp.path()), Access::Write)
        .await
        .is_ok());
}

#[tokio::test]
async fn keyword_search_works_before_vectors_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let mut library = support::open_writer(tmp.path()).await;
    let options = AddOptions {
        embed: false,
        ..AddOptions::default()
    };
    library
        .add(&[support::samples_dir()], &options, &|_| {})
        .await
        .unwrap();
    let counts = library.counts().await.unwrap();
    assert_eq!(counts.embedded_chunks, 0);
    assert!(counts.pending_chunks > 0);
    let results = library
        .search("daily meal allowance", SearchOptions::default())
        .await
        .unwrap();
    assert_eq!(results.mode, SearchMode::Keyword);
    assert!(!results.warnings.is_empty());
    assert_eq!(results.chunks_without_vectors, counts.pending_chunks);
    assert_eq!(results.hits[0].chunk.page, 2);
    // The next run computes the missing vectors.
    assert!(library.embed_pending(&|_| {}).await.unwrap() as i64 == counts.pending_chunks);
    assert_consistent(&library).await;
}

#[tokio::test]
async fn unreadable_inputs_get_their_own_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("in put ünïcode");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("fake.pdf"), "this is plain text").unwrap();
    let good = support::write_pdf(&docs, "good.pdf", &[vec!["Kestrel migration notes."]]);
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(docs.join("truncated.pdf"), &bytes[..40]).unwrap();
    std::fs::create_dir(docs.join("folder.pdf")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&docs, docs.join("loop")).unwrap();
    let mut library = support::open_writer(&tmp.path().join("lib")).await;
    let report = add(&mut library, &[&docs, &tmp.path().join("missing.pdf")]).await;
    assert_eq!(outcome_of(&report, "fake.pdf"), &Outcome::NotPdf);
    assert_eq!(outcome_of(&report, "good.pdf"), &Outcome::Indexed);
    assert!(matches!(
        outcome_of(&report, "truncated.pdf"),
        Outcome::Damaged { .. }
    ));
    assert!(matches!(
        outcome_of(&report, "missing.pdf"),
        Outcome::Unreadable { .. }
    ));
    assert!(report.anything_added());
    assert_consistent(&library).await;
}

/// Awkward names and files that move under Folio's feet: a 250-byte Unicode name, a path
/// nested past 1,000 characters, a file deleted and another rewritten after the batch found
/// them (each file is read once; its hash and text come from that one read).
#[tokio::test]
async fn odd_paths_and_files_that_change_mid_batch_get_truthful_outcomes() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs with spaces");
    let deep = (0..20).fold(docs.clone(), |dir, i| {
        dir.join(format!("level {i} — ünïcødé folder name of some length"))
    });
    std::fs::create_dir_all(&deep).unwrap();
    assert!(deep.as_os_str().len() > 1000);
    let long_name = format!("{}.pdf", "é".repeat(123)); // 250 bytes, near NAME_MAX
    support::write_pdf(
        &deep,
        &long_name,
        &[vec!["The heron census counted 41 nests."]],
    );
    let first = support::write_pdf(&docs, "a first.pdf", &[vec!["Opening file."]]);
    let vanishing = support::write_pdf(&docs, "b vanishing.pdf", &[vec!["Soon gone."]]);
    let rewritten = support::write_pdf(&docs, "c rewritten.pdf", &[vec!["Old osprey text."]]);

    let mut library = support::open_writer(&tmp.path().join("lib")).await;
    // Files are read in name order; while the first is read, the next two change.
    let on_event = |event: folio::IngestEvent| {
        if matches!(&event, folio::IngestEvent::FileStarted { file } if Path::new(file) == first) {
            std::fs::remove_file(&vanishing).unwrap();
            support::write_pdf(&docs, "c rewritten.pdf", &[vec!["New kingfisher text."]]);
        }
    };
    let paths = [docs.clone()];
    let report = library
        .add(&paths, &AddOptions::default(), &on_event)
        .await
        .unwrap();
    assert_eq!(outcome_of(&report, &long_name), &Outcome::Indexed);
    assert!(matches!(
        outcome_of(&report, "b vanishing.pdf"),
        Outcome::Unreadable { .. }
    ));
    assert_eq!(outcome_of(&report, "c rewritten.pdf"), &Outcome::Indexed);
    assert_eq!(
        top(&library, "heron nests", SearchMode::Hybrid, 1).await,
        vec![(long_name.clone(), 1)]
    );
    // What is stored is what was read, hash and text alike.
    assert_eq!(
        top(&library, "kingfisher", SearchMode::Keyword, 3).await,
        vec![("c rewritten.pdf".to_string(), 1)]
    );
    assert!(top(&library, "osprey", SearchMode::Keyword, 3)
        .await
        .is_empty());
    let stored = library.find_document("c rewritten.pdf").await.unwrap();
    let bytes = std::fs::read(&rewritten).unwrap();
    assert_eq!(stored.sha256, format!("{:x}", sha2::Sha256::digest(&bytes)));
    assert_consistent(&library).await;
}

/// A passage is found by its document's title even when its own text does not name it, and a
/// library whose keyword index predates that is rebuilt on its next open.
#[tokio::test]
async fn passages_are_found_by_document_title_also_after_an_upgrade() {
    let tmp = tempfile::tempdir().unwrap();
    let pdf = support::write_pdf(
        tmp.path(),
        "Zephyrine audit.pdf",
        &[vec!["Net revenue rose by eight percent in the quarter."]],
    );
    let root = tmp.path().join("lib");
    let mut library = support::open_writer(&root).await;
    add(&mut library, &[&pdf]).await;
    let found = top(&library, "zephyrine revenue", SearchMode::Keyword, 3).await;
    assert_eq!(found, vec![("Zephyrine audit.pdf".to_string(), 1)]);
    // Pretend the index was written by an older Folio.
    library
        .catalog()
        .set_setting("keyword_index_format", "1")
        .await
        .unwrap();
    library.close().await;

    let library = support::open_writer(&root).await;
    assert!(library.repair_report().keyword_index_rebuilt);
    let found = top(&library, "zephyrine revenue", SearchMode::Keyword, 3).await;
    assert_eq!(found, vec![("Zephyrine audit.pdf".to_string(), 1)]);
    assert_consistent(&library).await;
    library.close().await;
    let library = support::open_writer(&root).await;
    assert!(library.repair_report().is_clean());
}

/// A footer repeated on every page leaves the page text (so the passage closing each page is
/// not favoured by every question naming the document, nor echoed by the model), and what it
/// says is kept once as the running title, which finds every passage of the document.
#[tokio::test]
async fn running_footers_leave_the_passages_and_name_the_whole_document() {
    let tmp = tempfile::tempdir().unwrap();
    let footers: Vec<String> = (1..=5)
        .map(|n| format!("Kestrel Mining plc | Interim Report H1 2024 | {n}"))
        .collect();
    let bodies = [
        "Ore output rose to four million tonnes.",
        "Haulage costs fell after the new rail link opened.",
        "The board declared an interim dividend.",
        "Exploration drilling continued at the northern pit.",
        "Net debt was reduced by a third.",
    ];
    let pages: Vec<Vec<&str>> = bodies
        .iter()
        .zip(&footers)
        .map(|(body, footer)| vec![*body, footer.as_str()])
        .collect();
    let pdf = support::write_pdf(tmp.path(), "interim.pdf", &pages);
    let mut library = support::open_writer(&tmp.path().join("lib")).await;
    add(&mut library, &[&pdf]).await;

    let documents = library.documents().await.unwrap();
    assert_eq!(
        documents[0].running_title,
        "Kestrel Mining plc | Interim Report H1 2024"
    );
    let results = keyword_search(&library, "Kestrel Mining").await;
    let mut pages_found: Vec<i64> = results.hits.iter().map(|h| h.chunk.page).collect();
    pages_found.sort_unstable();
    assert_eq!(pages_found, vec![1, 2, 3, 4, 5]);
    for hit in &results.hits {
        assert!(
            !hit.chunk.text.contains("Kestrel") && !hit.chunk.text.contains("Interim Report"),
            "footer left in page {}: {:?}",
            hit.chunk.page,
            hit.chunk.text
        );
    }
    assert_consistent(&library).await;
}

#[tokio::test]
async fn a_library_moved_to_an_empty_folder_keeps_every_passage_and_vector() {
    use folio::location::{folder_use, FolderUse};
    let tmp = tempfile::tempdir().unwrap();
    let mut library = support::open_writer(&tmp.path().join("old")).await;
    add(&mut library, &[&support::samples_dir()]).await;
    let occupied = tmp.path().join("occupied");
    std::fs::create_dir_all(&occupied).unwrap();
    std::fs::write(occupied.join("notes.txt"), "mine").unwrap();
    assert!(library.copy_to(&occupied).await.is_err());
    assert_eq!(
        std::fs::read_to_string(occupied.join("notes.txt")).unwrap(),
        "mine"
    );

    let dest = tmp.path().join("new place");
    library.copy_to(&dest).await.unwrap();
    assert_eq!(folder_use(&dest).unwrap(), FolderUse::Library);
    let before = library.documents().await.unwrap().len();
    library.close().await;
    let moved = support::open_writer(&dest).await;
    assert_eq!(moved.documents().await.unwrap().len(), before);
    assert_consistent(&moved).await;
    assert!(
        moved.repair_report().is_clean(),
        "{:?}",
        moved.repair_report()
    );
    let fact = &FACTS[0];
    let hits = top(&moved, fact.paraphrase, SearchMode::Vector, 3).await;
    assert!(
        hits.contains(&(fact.file.to_string(), fact.page)),
        "{hits:?}"
    );
}

/// Text every report of the library repeats with other names filled in (an officer's
/// certification) is told apart from text a few reports share, so that answers are drawn from
/// what each document says of its own.
#[tokio::test]
async fn text_repeated_across_most_documents_is_found_to_be_a_template() {
    let tmp = tempfile::tempdir().unwrap();
    let companies = [
        (
            "Kestrel Mining",
            "Ada Fenwick",
            "Ore output rose to four million tonnes at the pit.",
        ),
        (
            "Harrier Foods",
            "Ben Okafor",
            "Frozen meal sales doubled in the northern region.",
        ),
        (
            "Osprey Shipping",
            "Cleo Marsh",
            "Container volumes fell as two vessels were refitted.",
        ),
        (
            "Merlin Textiles",
            "Dev Patel",
            "Wool prices rose and the mill added a night shift.",
        ),
    ];
    let contingencies = "Contingencies: the Company is subject to legal proceedings arising in \
        the ordinary course of business, including a dispute with a former supplier over \
        unpaid invoices; management does not expect a material adverse effect.";
    let mut paths = Vec::new();
    for (n, (company, officer, news)) in companies.iter().enumerate() {
        let certification = [
            format!("CERTIFICATION. I, {officer}, certify that:"),
            format!("1. I have reviewed this quarterly report of {company};"),
            "2. Based on my knowledge, this report does not contain any untrue statement of a"
                .to_string(),
            "material fact or omit to state a material fact necessary to make the statements"
                .to_string(),
            "made not misleading with respect to the period covered by this report;".to_string(),
            "3. The financial statements fairly present in all material respects the financial"
                .to_string(),
            "condition and results of operations of the registrant.".to_string(),
        ];
        let mut pages: Vec<Vec<&str>> = vec![vec![*news]];
        // Two of the four reports share a note: shared text, not a template.
        if n < 2 {
            pages.push(vec![contingencies]);
        }
        pages.push(certification.iter().map(String::as_str).collect());
        paths.push(support::write_pdf(
            tmp.path(),
            &format!("{company}.pdf"),
            &pages,
        ));
    }
    let mut library = support::open_writer(&tmp.path().join("lib")).await;
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    add(&mut library, &paths).await;

    let options = folio::answer::AnswerOptions::default();
    let retrieved = library
        .retrieve_for_question(
            "Did the officer certify that the report has no untrue statement of a material fact?",
            &options,
        )
        .await
        .unwrap();
    let passages_with = |retrieved: &folio::answer::Retrieved, word: &str| -> Vec<i64> {
        retrieved
            .hits
            .iter()
            .filter(|hit| hit.chunk.text.contains(word))
            .map(|hit| hit.chunk.chunk_id)
            .collect()
    };
    let certifications = passages_with(&retrieved, "certify");
    assert!(certifications.len() >= 2, "hits: {:?}", retrieved.hits);
    for chunk_id in &certifications {
        assert!(
            retrieved.templates.contains(chunk_id),
            "{chunk_id} not a template"
        );
    }
    let retrieved = library
        .retrieve_for_question("Is the Company subject to any legal proceedings?", &options)
        .await
        .unwrap();
    let notes = passages_with(&retrieved, "Contingencies");
    assert!(!notes.is_empty(), "hits: {:?}", retrieved.hits);
    assert!(notes.iter().all(|id| !retrieved.templates.contains(id)));
}

#[tokio::test]
async fn rows_further_down_a_statement_are_found_by_its_heading() {
    let tmp = tempfile::tempdir().unwrap();
    let mut statement = vec![
        "HARRIER FOODS AND SUBSIDIARIES",
        "CONDENSED STATEMENTS OF CASH FLOWS",
    ];
    // Enough rows that the page is cut into several passages.
    let rows = [
        "Net income 2,954 6,749",
        "Equipment depreciation and amortization 1,218 1,040",
        "Stock-based compensation expense 1,644 1,417",
        "Deferred income taxes (1,431) (217)",
        "Accounts receivable from wholesale customers 1,257 (1,102)",
        "Frozen meal and packaging inventories (2,934) (1,133)",
        "Prepaid expenses and other assets (1,307) (1,557)",
        "Accounts payable to growers and suppliers (358) 385",
        "Accrued and other current liabilities 1,175 159",
        "Other long-term liabilities 102 253",
    ];
    for _ in 0..3 {
        statement.extend(rows);
    }
    statement.push("Net money provided by operating activities 3,393 6,075");
    let pdf = support::write_pdf(tmp.path(), "Harrier.pdf", &[statement]);
    let mut library = support::open_writer(&tmp.path().join("lib")).await;
    add(&mut library, &[pdf.as_path()]).await;

    let results = keyword_search(&library, "statements of cash flows").await;
    // Search gives one passage per page: the best is the shortest one matching the query,
    // which only matches through its page's heading.
    let last_row = results
        .hits
        .iter()
        .find(|hit| hit.chunk.text.contains("Net money provided"))
        .unwrap_or_else(|| panic!("the last rows are not found: {:?}", results.hits));
    // The heading is indexed with the passage, not added to the text a reader is shown.
    assert!(!last_row.chunk.text.contains("CASH FLOWS"));
}
