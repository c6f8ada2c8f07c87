//! The `folio` binary as a user runs it: help, add, search (text and JSON), docs, remove, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn folio(library: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("--library")
        .arg(library)
        .arg("--models")
        .arg(support::models_dir())
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_command_has_help() {
    let tmp = tempfile::tempdir().unwrap();
    for command in [
        vec![],
        vec!["add"],
        vec!["search"],
        vec!["docs"],
        vec!["remove"],
        vec!["reindex"],
        vec!["bench", "ingest"],
        vec!["bench", "retrieval"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let out = folio(tmp.path(), &args);
        assert!(out.status.success(), "{command:?} --help failed");
        assert!(stdout(&out).contains("Usage:"), "{command:?}");
    }
}

#[test]
fn add_search_docs_remove_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("lib");
    let samples = support::samples_dir();
    let added = folio(&library, &["add", samples.to_str().unwrap()]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let table = stdout(&added);
    assert_eq!(table.matches("\nindexed ").count(), 4, "{table}");

    let out = folio(
        &library,
        &["search", "daily meal allowance", "--json", "-k", "3"],
    );
    assert!(out.status.success());
    let hits: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hits.len(), 3);
    let first = &hits[0];
    assert!(first["file"]
        .as_str()
        .unwrap()
        .ends_with("northwind-travel-policy.pdf"));
    assert_eq!(first["page"], 2);
    for field in ["score", "text", "char_start", "char_end", "title"] {
        assert!(!first[field].is_null(), "missing {field}");
    }

    let text = stdout(&folio(
        &library,
        &["search", "eyewash", "--mode", "keyword", "-k", "1"],
    ));
    assert!(
        text.contains("riverside-lab-safety-rules.pdf, p. 2"),
        "{text}"
    );
    assert!(
        text.contains("**eyewash**"),
        "matched terms are marked: {text}"
    );

    let docs = stdout(&folio(&library, &["docs", "--json"]));
    let docs: Vec<serde_json::Value> = docs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 4);
    assert!(docs
        .iter()
        .all(|d| d["status"] == "indexed" && d["file"].is_string()));

    assert!(folio(&library, &["remove", "sourdough"]).status.success());
    let after = stdout(&folio(
        &library,
        &["search", "sourdough starter", "--json", "--mode", "keyword"],
    ));
    assert!(!after.contains("sourdough-baking-guide.pdf"));
    let missing = folio(&library, &["remove", "no-such-document"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no document"));
}

#[test]
fn add_fails_only_when_nothing_could_be_added() {
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("lib");
    let junk = tmp.path().join("junk.pdf");
    std::fs::write(&junk, "not a pdf").unwrap();
    let out = folio(&library, &["add", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("not a PDF"));
    let good = support::write_pdf(tmp.path(), "good.pdf", &[vec!["Ptarmigan survey."]]);
    let mixed = folio(
        &library,
        &[
            "add",
            junk.to_str().unwrap(),
            good.to_str().unwrap(),
            "--no-embed",
        ],
    );
    assert!(mixed.status.success(), "{}", stdout(&mixed));
}
