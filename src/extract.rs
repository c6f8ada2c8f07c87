//! PDF text extraction, page by page, isolated per file.
//!
//! Third-party parsers may panic, loop or return garbage on hostile files. Each reader runs on
//! its own thread behind `catch_unwind` and a time limit, so one file can only ever produce its
//! own typed failure. pdf-extract reads first; when it panics, fails, or yields empty or garbled
//! pages (including words broken apart by stray spaces), pdf_oxide reads the file too and the
//! better text of each page is kept.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use unicode_normalization::UnicodeNormalization;

use crate::running_lines::remove_running_lines;

/// Name given to extraction threads, so the panic hook can keep their panics quiet.
const EXTRACT_THREAD: &str = "folio-extract";

/// Why a reader produced no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The file needs a password (none given, or a wrong one).
    Encrypted,
    /// The reader rejected or choked on the file.
    Failed(String),
    /// The reader panicked.
    Panicked(String),
    /// The reader did not finish within the time limit.
    TimedOut,
}

/// A PDF reader that returns the raw text of every page, in page order.
pub trait Extractor: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn read_pages(&self, pdf: &[u8], password: Option<&str>) -> Result<Vec<String>, ReadError>;
}

/// pdf-extract (lopdf underneath): the primary reader.
pub struct PdfExtract;

impl Extractor for PdfExtract {
    fn name(&self) -> &'static str {
        "pdf-extract"
    }

    fn read_pages(&self, pdf: &[u8], password: Option<&str>) -> Result<Vec<String>, ReadError> {
        let pages = match password {
            Some(pw) => pdf_extract::extract_text_from_mem_by_pages_encrypted(pdf, pw),
            None => pdf_extract::extract_text_from_mem_by_pages(pdf),
        };
        pages.map_err(|e| {
            let message = e.to_string();
            if message.to_ascii_lowercase().contains("decrypt") || message.contains("password") {
                ReadError::Encrypted
            } else {
                ReadError::Failed(message)
            }
        })
    }
}

/// pdf_oxide: the fallback reader (pure Rust, reads files pdf-extract panics on).
pub struct PdfOxide;

impl Extractor for PdfOxide {
    fn name(&self) -> &'static str {
        "pdf_oxide"
    }

    fn read_pages(&self, pdf: &[u8], password: Option<&str>) -> Result<Vec<String>, ReadError> {
        let doc = pdf_oxide::PdfDocument::from_bytes(pdf.to_vec()).map_err(|e| oxide_error(&e))?;
        if doc.is_encrypted() {
            let authenticated = doc
                .authenticate(password.unwrap_or("").as_bytes())
                .map_err(|e| oxide_error(&e))?;
            if !authenticated {
                return Err(ReadError::Encrypted);
            }
        }
        let count = doc.page_count().map_err(|e| oxide_error(&e))?;
        let mut pages = Vec::with_capacity(count);
        for index in 0..count {
            // One unreadable page does not lose the others.
            pages.push(doc.extract_text(index).unwrap_or_default());
        }
        Ok(pages)
    }
}

fn oxide_error(e: &pdf_oxide::Error) -> ReadError {
    match e {
        pdf_oxide::Error::EncryptedPdf => ReadError::Encrypted,
        other => ReadError::Failed(other.to_string()),
    }
}

/// Limits applied to every file.
#[derive(Debug, Clone, Copy)]
pub struct ExtractLimits {
    /// Wall-clock limit for each reader on one file.
    pub time_limit: Duration,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            time_limit: Duration::from_secs(120),
        }
    }
}

/// The normalised text of a readable PDF.
#[derive(Debug, Clone)]
pub struct Extraction {
    /// Normalised text per page (index 0 = page 1); empty for pages without a text layer.
    pub pages: Vec<String>,
    /// Which reader(s) produced the text, e.g. `pdf-extract` or `pdf-extract+pdf_oxide`.
    pub extractor: String,
    pub pages_without_text: usize,
    pub warnings: Vec<String>,
    /// What the removed running headers and footers say about the document (see
    /// `running_lines`); empty when it has none.
    pub running_title: String,
}

/// Why a file yielded no document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractFailure {
    Encrypted,
    Damaged(String),
    TimedOut,
}

/// Reads `pdf` with the primary reader, falling back to the secondary when needed.
pub async fn extract_pdf(
    pdf: Arc<Vec<u8>>,
    password: Option<String>,
    limits: ExtractLimits,
) -> Result<Extraction, ExtractFailure> {
    extract_with(
        &[Arc::new(PdfExtract), Arc::new(PdfOxide)],
        pdf,
        password,
        limits,
    )
    .await
}

/// Reads `pdf` with each reader in turn until one gives clean text on every page.
pub async fn extract_with(
    readers: &[Arc<dyn Extractor>],
    pdf: Arc<Vec<u8>>,
    password: Option<String>,
    limits: ExtractLimits,
) -> Result<Extraction, ExtractFailure> {
    let mut best: Option<(Vec<String>, Vec<&'static str>)> = None;
    let mut errors: Vec<(&'static str, ReadError)> = Vec::new();
    let mut warnings = Vec::new();
    for reader in readers {
        let name = reader.name();
        match read_isolated(
            reader.clone(),
            pdf.clone(),
            password.clone(),
            limits.time_limit,
        )
        .await
        {
            Ok(raw) if raw.is_empty() => errors.push((name, ReadError::Failed("no pages".into()))),
            Ok(raw) => {
                best = Some(match best.take() {
                    None => (raw, vec![name]),
                    Some((previous, mut names)) => {
                        let (merged, used_new) = merge_pages(previous, raw);
                        if used_new {
                            names.push(name);
                        }
                        (merged, names)
                    }
                });
            }
            Err(e) => errors.push((name, e)),
        }
        if let Some((pages, _)) = &best {
            if good_enough(pages) {
                break;
            }
        }
    }
    for (name, error) in &errors {
        warnings.push(match error {
            ReadError::Encrypted => format!("{name}: password required"),
            ReadError::Failed(m) => format!("{name} failed: {}", first_line(m)),
            ReadError::Panicked(m) => format!("{name} crashed: {}", first_line(m)),
            ReadError::TimedOut => format!("{name} exceeded the time limit"),
        });
    }
    let Some((raw_pages, names)) = best else {
        return Err(classify_failure(&errors));
    };
    let mut pages: Vec<String> = raw_pages.iter().map(|p| normalize_text(p)).collect();
    let running_title = remove_running_lines(&mut pages);
    let pages_without_text = pages.iter().filter(|p| p.trim().is_empty()).count();
    if pages_without_text > 0 && pages_without_text < pages.len() {
        warnings.push(format!(
            "{pages_without_text} of {} pages have no text layer (scanned?); they are not searchable",
            pages.len()
        ));
    }
    Ok(Extraction {
        pages,
        extractor: names.join("+"),
        pages_without_text,
        warnings,
        running_title,
    })
}

/// Whether another reader is unlikely to do better: no page is garbled, and empty pages are
/// few enough to be genuinely blank (books have some) rather than a sign the reader failed.
fn good_enough(pages: &[String]) -> bool {
    let qualities: Vec<PageQuality> = pages.iter().map(|p| page_quality(p)).collect();
    let garbled = qualities.iter().any(|q| q.good > 0 && !q.is_clean());
    let empty = qualities.iter().filter(|q| q.good == 0).count();
    !garbled && empty * 10 <= pages.len() && empty < pages.len()
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or("").trim()
}

fn classify_failure(errors: &[(&'static str, ReadError)]) -> ExtractFailure {
    // Only a reader's own verdict counts: many files carry an /Encrypt dictionary that an empty
    // password opens, and asking for a password when one of those is damaged misleads.
    if errors.iter().any(|(_, e)| *e == ReadError::Encrypted) {
        return ExtractFailure::Encrypted;
    }
    if !errors.is_empty() && errors.iter().all(|(_, e)| *e == ReadError::TimedOut) {
        return ExtractFailure::TimedOut;
    }
    let reasons: Vec<String> = errors
        .iter()
        .map(|(name, e)| match e {
            ReadError::Failed(m) | ReadError::Panicked(m) => format!("{name}: {}", first_line(m)),
            ReadError::TimedOut => format!("{name}: time limit"),
            ReadError::Encrypted => format!("{name}: password required"),
        })
        .collect();
    ExtractFailure::Damaged(reasons.join("; "))
}

/// Whether the bytes start like a PDF (the header may follow some junk, as readers allow).
pub fn sniff_pdf(head: &[u8]) -> bool {
    head.windows(5).take(1024).any(|w| w == b"%PDF-")
}

/// Keeps, page by page, the text with more usable characters; says whether `new` was used.
fn merge_pages(old: Vec<String>, new: Vec<String>) -> (Vec<String>, bool) {
    if old.len() != new.len() {
        // Different page counts: the readers disagree on structure; keep the one with more text.
        let total = |pages: &[String]| pages.iter().map(|p| page_quality(p).good).sum::<usize>();
        return if total(&new) > total(&old) {
            (new, true)
        } else {
            (old, false)
        };
    }
    let mut used_new = false;
    let merged = old
        .into_iter()
        .zip(new)
        .map(|(a, b)| {
            let (qa, qb) = (page_quality(&a), page_quality(&b));
            if qb.score() > qa.score() {
                used_new = true;
                b
            } else {
                a
            }
        })
        .collect();
    (merged, used_new)
}

#[derive(Debug, Clone, Copy)]
struct PageQuality {
    good: usize,
    bad: usize,
    /// Alphabetic words on the page.
    words: usize,
    /// One-letter words other than "a" and "I": the trace of words broken by spaces ("C a sh
    /// in vestin g"), which some readers produce when they misjudge glyph widths.
    split_words: usize,
}

impl PageQuality {
    fn is_clean(self) -> bool {
        self.good > 0 && self.bad * 50 < self.good + self.bad && self.split_words * 20 <= self.words
    }
    /// Usable characters, with garbage and broken words weighing against them.
    fn score(self) -> i64 {
        self.good as i64 - 4 * self.bad as i64 - 8 * self.split_words as i64
    }
}

/// Counts usable characters against control, replacement and private-use characters, and
/// words broken apart by stray spaces.
fn page_quality(text: &str) -> PageQuality {
    let mut quality = PageQuality {
        good: 0,
        bad: 0,
        words: 0,
        split_words: 0,
    };
    for c in text.chars() {
        if c.is_whitespace() {
            continue;
        }
        if is_garbage_char(c) {
            quality.bad += 1;
        } else {
            quality.good += 1;
        }
    }
    for word in text.split_whitespace() {
        let mut letters = word.chars();
        if !word.chars().all(char::is_alphabetic) {
            continue;
        }
        quality.words += 1;
        if let (Some(letter), None) = (letters.next(), letters.next()) {
            if !matches!(letter, 'a' | 'A' | 'I') {
                quality.split_words += 1;
            }
        }
    }
    quality
}

fn is_garbage_char(c: char) -> bool {
    c == '\u{FFFD}' || c.is_control() || ('\u{E000}'..='\u{F8FF}').contains(&c)
}

/// Normalises extracted text: compatibility forms (ligatures such as "ﬁ"), line-end
/// hyphenation, control characters and runs of whitespace; keeps paragraph breaks.
pub fn normalize_text(raw: &str) -> String {
    let cleaned: String = raw
        .nfkc()
        .map(|c| match c {
            '\r' | '\u{0C}' | '\u{0B}' | '\u{2028}' | '\u{2029}' => '\n',
            '\t' => ' ',
            c => c,
        })
        .filter(|&c| c == '\n' || !(is_garbage_char(c) || c == '\u{AD}'))
        .collect();
    let lines: Vec<String> = cleaned
        .split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let mut out = String::with_capacity(cleaned.len());
    let mut blank_run = 0;
    let mut join_next = false;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() && !join_next {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        let next_starts_lower = lines[i + 1..]
            .iter()
            .find(|l| !l.is_empty())
            .and_then(|l| l.chars().next())
            .is_some_and(char::is_lowercase);
        let hyphenated = line.len() > 1
            && line.ends_with('-')
            && line[..line.len() - 1]
                .chars()
                .last()
                .is_some_and(char::is_alphabetic);
        if hyphenated && next_starts_lower {
            out.push_str(&line[..line.len() - 1]);
            join_next = true;
        } else {
            out.push_str(line);
            join_next = false;
        }
    }
    out
}

/// Runs one reader on its own thread, behind `catch_unwind` and the time limit. A reader that
/// overruns is abandoned (threads cannot be killed); its result is discarded.
async fn read_isolated(
    reader: Arc<dyn Extractor>,
    pdf: Arc<Vec<u8>>,
    password: Option<String>,
    limit: Duration,
) -> Result<Vec<String>, ReadError> {
    install_quiet_panic_hook();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name(EXTRACT_THREAD.into())
        .stack_size(64 * 1024 * 1024) // deeply nested objects recurse
        .spawn(move || {
            let started = Instant::now();
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                reader.read_pages(&pdf, password.as_deref())
            }))
            .unwrap_or_else(|payload| Err(ReadError::Panicked(panic_message(&payload))));
            let _ = tx.send((result, started.elapsed()));
        });
    if let Err(e) = spawned {
        return Err(ReadError::Failed(format!(
            "could not start a reader thread: {e}"
        )));
    }
    match tokio::time::timeout(limit, rx).await {
        Ok(Ok((result, _elapsed))) => result,
        Ok(Err(_)) => Err(ReadError::Panicked(
            "reader thread ended without a result".into(),
        )),
        Err(_) => Err(ReadError::TimedOut),
    }
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Panics inside readers are expected and reported as outcomes; keep them off the terminal.
fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(EXTRACT_THREAD) {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_ligatures_hyphens_and_spaces() {
        let raw = "The ﬁnal   report  is inter-\nnational.\r\n\n\n\nNext\tpara\u{FFFD}graph";
        assert_eq!(
            normalize_text(raw),
            "The final report is international.\n\nNext paragraph"
        );
    }

    #[test]
    fn keeps_hyphen_before_capital_or_number() {
        assert_eq!(
            normalize_text("Covid-\n19 and Jean-\nPaul"),
            "Covid-\n19 and Jean-\nPaul"
        );
    }

    #[test]
    fn quality_flags_garbled_pages() {
        assert!(page_quality("plain readable text").is_clean());
        assert!(!page_quality("\u{E001}\u{E002}\u{E003} ab").is_clean());
        assert!(!page_quality("   ").is_clean());
    }

    #[test]
    fn quality_flags_words_broken_by_spaces() {
        let broken =
            page_quality("C a sh used in in vestin g a ctivities in crea sed o f fisca l y ea r");
        let whole = page_quality("Cash used in investing activities increased of fiscal year");
        assert!(!broken.is_clean());
        assert!(whole.is_clean());
        assert!(whole.score() > broken.score());
        assert!(page_quality("I saw a cat and a dog in a car").is_clean());
    }

    #[test]
    fn a_few_blank_pages_do_not_call_for_another_reader() {
        let mut book: Vec<String> = (0..20).map(|i| format!("page {i} text")).collect();
        book[7] = String::new();
        assert!(good_enough(&book));
        book[8] = String::new();
        book[9] = String::new();
        assert!(!good_enough(&book));
        assert!(!good_enough(&[String::new()]));
        assert!(!good_enough(&[
            "ok".into(),
            "\u{E001}\u{E002}\u{E003} ab".into()
        ]));
    }

    #[test]
    fn merge_prefers_the_readable_page() {
        let a = vec!["good text".to_string(), String::new()];
        let b = vec!["\u{FFFD}\u{FFFD}".to_string(), "recovered".to_string()];
        let (merged, used) = merge_pages(a, b);
        assert!(used);
        assert_eq!(
            merged,
            vec!["good text".to_string(), "recovered".to_string()]
        );
    }

    #[test]
    fn sniffs_pdf_header() {
        assert!(sniff_pdf(b"%PDF-1.7\n"));
        assert!(sniff_pdf(b"\xef\xbb\xbf junk %PDF-1.4"));
        assert!(!sniff_pdf(b"PK\x03\x04 not a pdf"));
    }
}
