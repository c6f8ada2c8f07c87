//! The `folio` binary as a user runs it: help, add, search (text and JSON), docs, remove, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::folio;

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
        vec!["bench", "models"],
        vec!["bench", "search"],
        vec!["ask"],
        vec!["chat"],
        vec!["chats"],
        vec!["chats", "export"],
        vec!["models"],
        vec!["models", "add"],
        vec!["summarize"],
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

    // Search latency on the library as it is: five timed searches of the smoke questions.
    let questions = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/smoke-qa.jsonl");
    let timed = folio(
        &library,
        &[
            "bench",
            "search",
            "--queries",
            questions.to_str().unwrap(),
            "--searches",
            "5",
            "--json",
        ],
    );
    assert!(
        timed.status.success(),
        "{}",
        String::from_utf8_lossy(&timed.stderr)
    );
    let latency: serde_json::Value = serde_json::from_str(&stdout(&timed)).unwrap();
    assert_eq!(latency["queries"], 5);
    let (p50, p95) = (
        latency["p50_ms"].as_f64().unwrap(),
        latency["p95_ms"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p95 >= p50, "{latency}");
    assert!(latency["stages_mean"]["vector_ms"].as_f64().unwrap() > 0.0);

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

const TINY: &str = "SmolLM2-135M-Instruct.Q4_1";

#[test]
fn routed_model_bench_without_a_larger_model_says_what_to_install() {
    let tmp = tempfile::tempdir().unwrap();
    // A models folder with the default model only: routing has nothing to route to.
    let models = tmp.path().join("models");
    std::fs::create_dir(&models).unwrap();
    let default = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
    std::os::unix::fs::symlink(support::models_dir().join(default), models.join(default)).unwrap();
    let questions = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/smoke-qa.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("--library")
        .arg(tmp.path().join("lib"))
        .arg("--models")
        .arg(&models)
        .args(["bench", "models", "--model", "routed", "--questions"])
        .arg(questions)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("routing needs a larger model installed"),
        "{stderr}"
    );
}

/// `folio chat` with `input` typed at its prompt.
fn chat(library: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("--library")
        .arg(library)
        .arg("--models")
        .arg(support::models_dir())
        .arg("chat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn ask_json_and_conversations_that_persist_across_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("lib");
    let samples = support::samples_dir();
    assert!(folio(&library, &["add", samples.to_str().unwrap()])
        .status
        .success());

    let out = folio(
        &library,
        &[
            "ask",
            "How many kilograms does the SX-400 weigh?",
            "--model",
            TINY,
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["model"], TINY);
    assert_eq!(answer["abstained"], false);
    assert!(answer["text"].as_str().is_some_and(|t| !t.is_empty()));
    for source in answer["sources"].as_array().unwrap() {
        assert!(source["file"].as_str().unwrap().ends_with(".pdf"));
        assert!(source["page"].as_i64().unwrap() >= 1);
        assert!(source["char_end"].as_i64() > source["char_start"].as_i64());
    }
    for field in [
        "retrieval_ms",
        "time_to_first_token_ms",
        "decode_tokens_per_second",
    ] {
        assert!(
            answer["timings"][field].as_f64().is_some(),
            "timings.{field}"
        );
    }
    let empty = folio(&library, &["ask", "  "]);
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("empty"));
    // A 100 KB "question" (a pasted document) is refused with the limit, not sent to a model.
    let pasted = "Why is the sky blue? ".repeat(5_000);
    let long = folio(&library, &["ask", &pasted]);
    assert!(!long.status.success());
    assert!(
        String::from_utf8_lossy(&long.stderr).contains("the limit is 4000"),
        "{}",
        String::from_utf8_lossy(&long.stderr)
    );

    // A conversation in one process...
    let first = chat(
        &library,
        &["--model", TINY],
        "What is the daily meal allowance within the European Union?\n/quit\n",
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout(&first).contains("saved"), "{}", stdout(&first));
    // ... is listed, resumed and exported by others.
    let listed: Vec<serde_json::Value> = stdout(&folio(&library, &["chats", "list", "--json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["messages"], 2);
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    let resumed = chat(
        &library,
        &["--model", TINY, "--resume", &id],
        "And outside the EU?\n",
    );
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let listed = stdout(&folio(&library, &["chats", "list", "--json"]));
    assert!(listed.contains("\"messages\":4"), "{listed}");
    let markdown = stdout(&folio(&library, &["chats", "export", &id]));
    assert!(
        markdown.contains("## Q: What is the daily meal allowance"),
        "{markdown}"
    );
    assert!(markdown.contains("## Q: And outside the EU?"), "{markdown}");
    assert!(folio(&library, &["chats", "delete", &id]).status.success());
    assert!(stdout(&folio(&library, &["chats", "list", "--json"]))
        .trim()
        .is_empty());
}

/// A file and a folder the user may not read are reported as unreadable; the rest is added.
/// Root reads everything, so as root the command runs without the capabilities that allow it.
#[test]
fn unreadable_files_and_folders_are_reported_and_the_rest_added() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    let locked_folder = input.join("locked folder");
    std::fs::create_dir_all(&locked_folder).unwrap();
    support::write_pdf(&input, "open.pdf", &[vec!["Readable lapwing notes."]]);
    let secret = support::write_pdf(&input, "secret.pdf", &[vec!["Hidden."]]);
    support::write_pdf(&locked_folder, "inside.pdf", &[vec!["Hidden too."]]);
    for locked in [&secret, &locked_folder] {
        std::fs::set_permissions(locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let wrapper: &[&str] = if support::is_root() {
        &[
            "setpriv",
            "--bounding-set",
            "-dac_override,-dac_read_search",
        ]
    } else {
        &[]
    };
    let library = tmp.path().join("lib");
    let out = support::folio_command_under(wrapper, &library)
        .args(["add", "--no-embed", "--json", input.to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::set_permissions(&locked_folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = |suffix: &str| {
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"].as_str().unwrap().ends_with(suffix))
            .map(|f| f["outcome"].as_str().unwrap().to_string())
    };
    assert_eq!(outcome("open.pdf").as_deref(), Some("indexed"));
    assert_eq!(outcome("secret.pdf").as_deref(), Some("unreadable"));
    assert_eq!(outcome("locked folder").as_deref(), Some("unreadable"));
}

/// Control characters in a file name (and so in the title) are escaped in every listing.
#[test]
fn control_characters_never_reach_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("lib");
    let name = "bell\u{7} clear\u{1b}[2J rtl\u{202e}fdp.pdf";
    support::write_pdf(tmp.path(), name, &[vec!["The curlew survey ends in May."]]);
    let file = tmp.path().join(name);
    let added = folio(&library, &["add", "--no-embed", file.to_str().unwrap()]);
    let docs = folio(&library, &["docs"]);
    let found = folio(&library, &["search", "curlew survey", "--mode", "keyword"]);
    for output in [&added, &docs, &found] {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            let raw: Vec<char> = text
                .chars()
                .filter(|&c| (c.is_control() && c != '\n') || c == '\u{202e}')
                .collect();
            assert!(raw.is_empty(), "raw {raw:?} in {text}");
        }
    }
    assert!(
        stdout(&found).contains("bell\u{FFFD} clear\u{FFFD}[2J"),
        "{}",
        stdout(&found)
    );
}
