//! Mutated PDFs through `folio add` for a bounded time: truncation, byte flips, cross-reference
//! damage, absurd object and page counts, deep nesting and spliced ranges, made from the sample
//! PDFs and (when present) real-world PDFs of the evaluation set. No run may crash, every file
//! gets a typed outcome within the per-reader time limit, peak memory stays bounded, and the
//! library stays consistent.
//!
//! `FOLIO_FUZZ_SECONDS` sets the budget (default 60); `FOLIO_FUZZ_SEED` replays a failing run
//! (the seed is printed first).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use folio::{Access, Library};

const FILES_PER_ROUND: usize = 16;
const READER_SECONDS: u64 = 5;
const PEAK_RSS_LIMIT_MIB: u64 = 1536;

/// splitmix64: mutations differ per run yet replay from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Replaces the decimal number after each `key` (e.g. `/Count`) with `value`.
fn replace_numbers_after(bytes: &[u8], key: &[u8], value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(key) {
            out.extend_from_slice(key);
            i += key.len();
            while i < bytes.len() && bytes[i] == b' ' {
                out.push(b' ');
                i += 1;
            }
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 {
                out.extend_from_slice(value.as_bytes());
                i += digits;
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// One mutant of `original` and the name of the mutation.
fn mutate(original: &[u8], rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let mut bytes = original.to_vec();
    let len = bytes.len();
    match rng.below(7) {
        0 => {
            bytes.truncate(rng.below(len));
            ("truncated", bytes)
        }
        1 => {
            for _ in 0..=rng.below(32) {
                let at = rng.below(len);
                bytes[at] ^= 1 << rng.below(8);
            }
            ("flipped", bytes)
        }
        2 => {
            // Cross-reference damage: the table's offsets and the pointer to it go wrong.
            for at in find_all(original, b"startxref") {
                let digits_at = (at + 10).min(len);
                for b in bytes[digits_at..].iter_mut().take(6) {
                    if b.is_ascii_digit() {
                        *b = b'0' + rng.below(10) as u8;
                    }
                }
            }
            for at in find_all(original, b" 00000 n") {
                let start = at.saturating_sub(10);
                bytes[start + rng.below(10)] = b'0' + rng.below(10) as u8;
            }
            ("xref-damaged", bytes)
        }
        3 => {
            let huge = ["2147483647", "4294967296", "99999999999999999999"][rng.below(3)];
            let bytes = replace_numbers_after(&bytes, b"/Count", huge);
            ("huge-counts", replace_numbers_after(&bytes, b"/Size", huge))
        }
        4 => {
            // A page tree that names one page object a hundred thousand times.
            let kids = find_all(original, b"/Kids [");
            let Some(&at) = kids.first() else {
                return ("flipped", bytes);
            };
            let target_end = at + 7;
            let reference: Vec<u8> = original[target_end..]
                .iter()
                .take_while(|b| **b != b'R')
                .copied()
                .chain(*b"R ")
                .collect();
            let repeated = reference.repeat(100_000);
            bytes.splice(target_end..target_end, repeated);
            let bytes = replace_numbers_after(&bytes, b"/Count", "100001");
            ("many-pages", bytes)
        }
        5 => {
            // Nesting deep enough to overflow a recursive parser's stack.
            let depth = 10_000 + rng.below(200_000);
            let opener: &[u8] = if rng.below(2) == 0 { b"[" } else { b"<<" };
            let at = find_all(original, b"obj")
                .get(1)
                .map_or(len / 2, |&i| i + 3);
            bytes.splice(at..at, opener.repeat(depth));
            ("deep-nesting", bytes)
        }
        _ => {
            let from = rng.below(len);
            let until = (from + rng.below(4096)).min(len);
            let to = rng.below(len);
            let copied = original[from..until].to_vec();
            bytes.splice(to..to, copied);
            ("spliced", bytes)
        }
    }
}

/// The originals: the committed samples and, when available, a few real-world PDFs.
fn originals() -> Vec<(String, Vec<u8>)> {
    let mut folders = vec![support::samples_dir()];
    if let Some(eval) = support::eval_dir() {
        folders.push(eval.join("docugami-dev/pdfs"));
    }
    let mut originals = Vec::new();
    for folder in folders {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
            .collect();
        files.sort();
        for file in files.into_iter().take(4) {
            let name = file
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .replace(' ', "-");
            originals.push((name, std::fs::read(&file).unwrap()));
        }
    }
    originals
}

/// Runs `folio add` on `folder`, polling the child's peak resident memory while it runs.
fn add_watching_memory(library: &Path, folder: &Path) -> (std::process::Output, u64) {
    let child = support::folio_command(library)
        .args(["add", "--no-embed", "--json", "--timeout"])
        .arg(READER_SECONDS.to_string())
        .arg(folder)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            use std::sync::atomic::Ordering;
            while !done.load(Ordering::Relaxed) {
                let kib = std::fs::read_to_string(&status_file)
                    .ok()
                    .and_then(|s| {
                        let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
                        line.split_whitespace().nth(1)?.parse::<u64>().ok()
                    })
                    .unwrap_or(0);
                peak.fetch_max(kib, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let output = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.join().unwrap();
    (
        output,
        peak.load(std::sync::atomic::Ordering::Relaxed) / 1024,
    )
}

#[tokio::test]
async fn mutated_pdfs_never_crash_hang_or_bloat_the_ingest() {
    let seed = std::env::var("FOLIO_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let budget = Duration::from_secs(
        std::env::var("FOLIO_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
    );
    eprintln!("fuzz seed {seed} (FOLIO_FUZZ_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let originals = originals();
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("lib");
    let known = [
        "indexed",
        "updated",
        "unchanged",
        "duplicate",
        "encrypted",
        "no_text_layer",
        "damaged",
        "too_large",
        "timed_out",
        "not_pdf",
    ];
    let mut outcomes: BTreeMap<(&str, String), (usize, f64)> = BTreeMap::new();
    let mut peak_mib = 0;
    let (mut files, mut rounds) = (0, 0);
    let started = Instant::now();
    while started.elapsed() < budget {
        let folder = tmp.path().join(format!("round-{rounds}"));
        std::fs::create_dir(&folder).unwrap();
        let mut names = Vec::new();
        for i in 0..FILES_PER_ROUND {
            let (original_name, original) = &originals[rng.below(originals.len())];
            let (mutation, bytes) = mutate(original, &mut rng);
            let name = format!("{i:02}-{original_name}-{mutation}.pdf");
            std::fs::write(folder.join(&name), bytes).unwrap();
            names.push((name, mutation));
        }
        let (output, round_peak_mib) = add_watching_memory(&library, &folder);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Exit 1 means nothing could be added; a signal (None) or anything else is a crash.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "seed {seed}, round {rounds}: folio add ended with {:?}\n{stderr}",
            output.status
        );
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
                panic!("seed {seed}, round {rounds}: no JSON report ({e})\n{stderr}")
            });
        let reported = report["files"].as_array().unwrap();
        for (name, mutation) in &names {
            let entry = reported
                .iter()
                .find(|f| {
                    f["file"]
                        .as_str()
                        .is_some_and(|f| f.ends_with(name.as_str()))
                })
                .unwrap_or_else(|| panic!("seed {seed}: {name} has no outcome"));
            let outcome = entry["outcome"].as_str().unwrap();
            assert!(known.contains(&outcome), "seed {seed}: {name}: {outcome}");
            // Two readers at most, each bounded by the limit, plus bookkeeping.
            let seconds = entry["seconds"].as_f64().unwrap();
            assert!(
                seconds < (2 * READER_SECONDS + 3) as f64,
                "seed {seed}: {name} took {seconds:.1} s"
            );
            let tally = outcomes.entry((mutation, outcome.to_string())).or_default();
            tally.0 += 1;
            tally.1 = tally.1.max(seconds);
        }
        peak_mib = peak_mib.max(round_peak_mib);
        assert!(
            round_peak_mib < PEAK_RSS_LIMIT_MIB,
            "seed {seed}, round {rounds}: peak RSS {round_peak_mib} MiB"
        );
        files += names.len();
        rounds += 1;
        std::fs::remove_dir_all(&folder).unwrap();
    }
    eprintln!(
        "fuzz: {files} mutated files in {rounds} runs of `folio add` ({:.0} s); peak RSS {peak_mib} MiB; (mutation, outcome): (files, slowest s) {outcomes:?}",
        started.elapsed().as_secs_f64()
    );
    let library = Library::open(support::paths(&library), Access::Read)
        .await
        .unwrap();
    let state = library.consistency().await.unwrap();
    assert!(state.is_consistent(), "{state:?}");
}
