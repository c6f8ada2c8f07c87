//! Nothing leaves the machine: `folio add` and `folio ask` work in a network namespace with no
//! interfaces, and under strace they never connect or send to an internet address.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::path::Path;
use std::process::{Command, Output};

const TINY: &str = "SmolLM2-135M-Instruct.Q4_1";
const QUESTION: &str = "What does error code E17 mean?";

/// `folio` with `args`, run under `wrapper` (e.g. `unshare -n`).
fn folio_under(wrapper: &[&str], library: &Path, args: &[&str]) -> Output {
    support::folio_command_under(wrapper, library)
        .args(args)
        // Nothing inherited from the caller should be what keeps Folio offline.
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .unwrap()
}

fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn add_and_ask_work_in_a_network_namespace_without_interfaces() {
    if !support::is_root() {
        eprintln!("skipped: creating a network namespace needs root (CI runs as root)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("lib");
    let no_network = ["unshare", "--net", "--"];
    // The namespace really has no route out.
    let probe = Command::new("unshare")
        .args(["--net", "--", "cat", "/proc/net/route"])
        .output()
        .unwrap();
    check(&probe, "unshare --net");
    let routes = String::from_utf8_lossy(&probe.stdout)
        .lines()
        .skip(1)
        .count();
    assert_eq!(routes, 0, "the namespace has routes");

    let samples = support::samples_dir();
    check(
        &folio_under(&no_network, &library, &["add", samples.to_str().unwrap()]),
        "add",
    );
    let asked = folio_under(
        &no_network,
        &library,
        &["ask", QUESTION, "--model", TINY, "--json"],
    );
    check(&asked, "ask");
    let answer: serde_json::Value = serde_json::from_slice(&asked.stdout).unwrap();
    assert!(answer["text"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(!answer["sources"].as_array().unwrap().is_empty());
}

/// Network system calls to internet addresses in an strace log.
fn internet_calls(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            ["connect(", "sendto(", "sendmsg(", "sendmmsg("]
                .iter()
                .any(|call| l.contains(call))
                && (l.contains("AF_INET") || l.contains("AF_INET6"))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn add_and_ask_never_contact_an_internet_address() {
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("lib");
    let log = tmp.path().join("strace.log");
    let log_arg = log.to_str().unwrap();
    let traced = ["strace", "-f", "-e", "trace=network", "-o", log_arg];
    let samples = support::samples_dir();
    let mut calls = Vec::new();
    let mut traced_lines = 0;
    for args in [
        vec!["add", samples.to_str().unwrap()],
        vec!["ask", QUESTION, "--model", TINY],
    ] {
        check(&folio_under(&traced, &library, &args), args[0]);
        let text = std::fs::read_to_string(&log).unwrap();
        traced_lines += text.lines().count();
        calls.extend(internet_calls(&text));
    }
    assert!(traced_lines > 0, "strace recorded nothing: is it tracing?");
    assert!(
        calls.is_empty(),
        "internet traffic attempted:\n{}",
        calls.join("\n")
    );
}

#[test]
fn the_strace_check_sees_a_real_internet_connection_attempt() {
    // The check above must be able to fail: a program that tries 127.0.0.1:9 is caught.
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("strace.log");
    let status = Command::new("strace")
        .args(["-f", "-e", "trace=network", "-o"])
        .arg(&log)
        .args([
            "python3",
            "-c",
            "import socket\ntry: socket.create_connection(('127.0.0.1', 9), timeout=1)\nexcept OSError: pass",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let calls = internet_calls(&std::fs::read_to_string(&log).unwrap());
    assert!(!calls.is_empty(), "the connect attempt was not seen");
}
