//! PDF text extraction, page by page, isolated per file.
//!
//! Third-party parsers may panic, loop or return garbage on hostile files. Each reader runs on
//! its own thread behind `catch_unwind` and a time limit, so one file can only ever produce its
//! own typed failure. pdf-extract reads first; when it panics, fails, or yields empty or garbled
//! pages (including words broken apart by stray spaces), pdf_oxide reads those pages again and
//! the better text of each page is kept. pdf-extract stops early on a file whose first pages it
//! all garbles; any page still missing after pdf_oxide is then read by pdf-extract in full.

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

/// A PDF reader that returns the raw text of the pages of a file, in page order.
pub trait Extractor: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// One string per page of the file. With `only` (0-based page indexes), pages outside it
    /// may come back empty: a reader that can read single pages skips them.
    fn read_pages(
        &self,
        pdf: &[u8],
        password: Option<&str>,
        only: Option<&[usize]>,
    ) -> Result<Vec<String>, ReadError>;
}

/// pdf-extract (lopdf underneath): the primary reader, driven page by page so that one page
/// that fails or panics costs only that page (pdf-extract's own by-pages call stops at the
/// first failing page and drops the rest of the file).
pub struct PdfExtract {
    /// Stop once this many pages with text have all come out garbled, leaving the rest of the
    /// file to the next reader: when pdf-extract misreads a file's fonts it breaks words apart
    /// on every page ("C a sh in vestin g"; the eval set's 10-Q filings did so before the
    /// vendored width fix), and reading such a file to the end only to read it again doubles
    /// its extraction time.
    pub give_up_after_garbled: Option<usize>,
}

impl PdfExtract {
    /// The first reading: gives up on files it garbles from the start.
    pub const FIRST: PdfExtract = PdfExtract {
        give_up_after_garbled: Some(3),
    };
    /// A full reading of the pages still missing after the other readers.
    pub const FULL: PdfExtract = PdfExtract {
        give_up_after_garbled: None,
    };
}

impl Extractor for PdfExtract {
    fn name(&self) -> &'static str {
        "pdf-extract"
    }

    fn read_pages(
        &self,
        pdf: &[u8],
        password: Option<&str>,
        only: Option<&[usize]>,
    ) -> Result<Vec<String>, ReadError> {
        let pdf_error = |e: pdf_extract::Error| {
            let message = e.to_string();
            if message.to_ascii_lowercase().contains("decrypt") || message.contains("password") {
                ReadError::Encrypted
            } else {
                ReadError::Failed(message)
            }
        };
        let mut doc = pdf_extract::Document::load_mem(pdf).map_err(pdf_error)?;
        if doc.is_encrypted() {
            doc.decrypt(password.unwrap_or("")).map_err(pdf_error)?;
        }
        let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
        let mut pages = Vec::with_capacity(numbers.len());
        let mut garbling = GarblingWatch::default();
        for (index, &number) in numbers.iter().enumerate() {
            let gave_up = self
                .give_up_after_garbled
                .is_some_and(|limit| garbling.all_garbled(limit));
            if gave_up || only.is_some_and(|only| !only.contains(&index)) {
                pages.push(String::new());
                continue;
            }
            let mut text = String::new();
            // A page that fails or panics stays empty; the next reader may read it.
            let read = panic::catch_unwind(AssertUnwindSafe(|| {
                let mut output = pdf_extract::PlainTextOutput::new(&mut text);
                pdf_extract::output_doc_page(&doc, &mut output, number)
            }));
            if !matches!(read, Ok(Ok(()))) {
                text.clear();
            }
            garbling.observe(&text);
            pages.push(text);
        }
        Ok(pages)
    }
}

/// Counts the pages with text read so far, and the clean ones among them.
#[derive(Debug, Default)]
struct GarblingWatch {
    with_text: usize,
    clean: usize,
}

impl GarblingWatch {
    fn observe(&mut self, page: &str) {
        let quality = page_quality(page);
        if quality.good > 0 {
            self.with_text += 1;
            self.clean += usize::from(quality.is_clean());
        }
    }

    /// At least `pages` pages had text, and none of it was clean.
    fn all_garbled(&self, pages: usize) -> bool {
        self.with_text >= pages && self.clean == 0
    }
}

/// pdf_oxide: the fallback reader (pure Rust, reads files pdf-extract panics on).
pub struct PdfOxide;

impl Extractor for PdfOxide {
    fn name(&self) -> &'static str {
        "pdf_oxide"
    }

    fn read_pages(
        &self,
        pdf: &[u8],
        password: Option<&str>,
        only: Option<&[usize]>,
    ) -> Result<Vec<String>, ReadError> {
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
            let wanted = only.is_none_or(|only| only.contains(&index));
            // One unreadable page does not lose the others.
            pages.push(if wanted {
                doc.extract_text(index).unwrap_or_default()
            } else {
                String::new()
            });
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
    /// Wall-clock time each reader spent on the file, in the order they ran.
    pub reader_seconds: Vec<(&'static str, f64)>,
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
        &[
            Arc::new(PdfExtract::FIRST),
            Arc::new(PdfOxide),
            Arc::new(PdfExtract::FULL),
        ],
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
    let mut reader_seconds = Vec::new();
    for reader in readers {
        let name = reader.name();
        if errors.iter().any(|(failed, _)| *failed == name) {
            // It already failed on this file (or hung): a second pass would fail the same way.
            continue;
        }
        // A later reader only rereads the pages the earlier ones got wrong: most of a file with
        // one garbled page is fine, and reading it all again doubled the extraction time.
        let retry = best
            .as_ref()
            .map(|(pages, _)| pages_needing_another_reader(pages));
        let reading = Instant::now();
        let mut result = read_isolated(
            reader.clone(),
            pdf.clone(),
            password.clone(),
            retry.clone(),
            limits.time_limit,
        )
        .await;
        if let (Some(_), Ok(raw), Some((previous, _))) = (&retry, &result, &best) {
            if raw.len() != previous.len() {
                // The readers disagree on the page count, so pages cannot be matched one to one:
                // compare whole readings instead.
                result = read_isolated(
                    reader.clone(),
                    pdf.clone(),
                    password.clone(),
                    None,
                    limits.time_limit,
                )
                .await;
            }
        }
        reader_seconds.push((name, reading.elapsed().as_secs_f64()));
        match result {
            Ok(raw) if raw.is_empty() => errors.push((name, ReadError::Failed("no pages".into()))),
            Ok(raw) => {
                best = Some(match best.take() {
                    None => (raw, vec![name]),
                    Some((previous, mut names)) => {
                        let (merged, used_new) = merge_pages(previous, raw);
                        if used_new && !names.contains(&name) {
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
        reader_seconds,
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

/// The pages (0-based) that are empty or garbled, for the next reader to try.
fn pages_needing_another_reader(pages: &[String]) -> Vec<usize> {
    pages
        .iter()
        .enumerate()
        .filter(|(_, page)| !page_quality(page).is_clean())
        .map(|(index, _)| index)
        .collect()
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

/// Keeps, page by page, the text with more usable characters; says whether `new` was used. An
/// empty page of `new` (not read, or blank) never replaces text.
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
            if qb.good > 0 && qb.score() > qa.score() {
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
    only: Option<Vec<usize>>,
    limit: Duration,
) -> Result<Vec<String>, ReadError> {
    install_quiet_panic_hook();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name(EXTRACT_THREAD.into())
        .stack_size(64 * 1024 * 1024) // deeply nested objects recurse
        .spawn(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                reader.read_pages(&pdf, password.as_deref(), only.as_deref())
            }))
            .unwrap_or_else(|payload| Err(ReadError::Panicked(panic_message(&payload))));
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(ReadError::Failed(format!(
            "could not start a reader thread: {e}"
        )));
    }
    match tokio::time::timeout(limit, rx).await {
        Ok(Ok(result)) => result,
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
    #![allow(clippy::panic)] // tests fail loudly
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
    fn reading_stops_only_when_every_page_so_far_is_garbled() {
        let broken = "C a sh in vestin g a ctivities in crea sed";
        let mut watch = GarblingWatch::default();
        watch.observe("");
        watch.observe(broken);
        watch.observe(broken);
        assert!(!watch.all_garbled(3), "blank pages do not count");
        watch.observe(broken);
        assert!(watch.all_garbled(3));
        watch.observe("Cash used in investing activities increased");
        assert!(
            !watch.all_garbled(3),
            "one clean page keeps the reader going"
        );
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

    /// A reader that hands out fixed pages (or fails, without pages) and remembers which pages
    /// it was asked for.
    struct FixedReader {
        name: &'static str,
        pages: Option<Vec<&'static str>>,
        asked: std::sync::Mutex<Vec<Option<Vec<usize>>>>,
    }

    impl Extractor for FixedReader {
        fn name(&self) -> &'static str {
            self.name
        }

        fn read_pages(
            &self,
            _pdf: &[u8],
            _password: Option<&str>,
            only: Option<&[usize]>,
        ) -> Result<Vec<String>, ReadError> {
            if let Ok(mut asked) = self.asked.lock() {
                asked.push(only.map(<[usize]>::to_vec));
            }
            let Some(pages) = &self.pages else {
                return Err(ReadError::Failed("bad xref".into()));
            };
            Ok(pages
                .iter()
                .enumerate()
                .map(|(i, page)| match only {
                    Some(only) if !only.contains(&i) => String::new(),
                    _ => page.to_string(),
                })
                .collect())
        }
    }

    fn fixed(name: &'static str, pages: Vec<&'static str>) -> Arc<FixedReader> {
        reader(name, Some(pages))
    }

    fn reader(name: &'static str, pages: Option<Vec<&'static str>>) -> Arc<FixedReader> {
        Arc::new(FixedReader {
            name,
            pages,
            asked: std::sync::Mutex::new(Vec::new()),
        })
    }

    fn asked(reader: &FixedReader) -> Vec<Option<Vec<usize>>> {
        reader.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }

    #[tokio::test]
    async fn the_fallback_reader_rereads_only_the_bad_pages() {
        let first = fixed(
            "first",
            vec![
                "Cash used in investing activities",
                "C a sh in vestin g a ctivities in crea sed",
                "Net sales by category",
            ],
        );
        let second = fixed(
            "second",
            vec![
                "other one",
                "Cash used in investing activities increased",
                "other three",
            ],
        );
        let readers: Vec<Arc<dyn Extractor>> = vec![first.clone(), second.clone()];
        let pdf = Arc::new(b"%PDF-1.7".to_vec());
        let Ok(extraction) = extract_with(&readers, pdf, None, ExtractLimits::default()).await
        else {
            panic!("both readers succeed, so extraction must");
        };
        assert_eq!(asked(&first), vec![None]);
        assert_eq!(asked(&second), vec![Some(vec![1])]);
        assert_eq!(
            extraction.pages,
            vec![
                "Cash used in investing activities",
                "Cash used in investing activities increased",
                "Net sales by category"
            ]
        );
        assert_eq!(extraction.extractor, "first+second");
    }

    #[tokio::test]
    async fn a_fallback_reader_with_another_page_count_reads_the_whole_file() {
        let first = fixed("first", vec!["", "Net sales by category"]);
        let second = fixed(
            "second",
            vec![
                "Cover page",
                "Net sales by category",
                "Notes to the statements",
            ],
        );
        let readers: Vec<Arc<dyn Extractor>> = vec![first, second.clone()];
        let pdf = Arc::new(b"%PDF-1.7".to_vec());
        let Ok(extraction) = extract_with(&readers, pdf, None, ExtractLimits::default()).await
        else {
            panic!("both readers succeed, so extraction must");
        };
        assert_eq!(asked(&second), vec![Some(vec![0]), None]);
        assert_eq!(extraction.pages.len(), 3);
    }

    #[tokio::test]
    async fn a_reader_that_failed_on_a_file_is_not_run_on_it_again() {
        let failing = reader("failing", None);
        let readers: Vec<Arc<dyn Extractor>> = vec![
            failing.clone(),
            fixed("second", vec!["", ""]),
            failing.clone(),
        ];
        let pdf = Arc::new(b"%PDF-1.7".to_vec());
        let Ok(extraction) = extract_with(&readers, pdf, None, ExtractLimits::default()).await
        else {
            panic!("the second reader reads the file");
        };
        assert_eq!(asked(&failing).len(), 1);
        assert_eq!(extraction.warnings, vec!["failing failed: bad xref"]);
    }

    #[test]
    fn sniffs_pdf_header() {
        assert!(sniff_pdf(b"%PDF-1.7\n"));
        assert!(sniff_pdf(b"\xef\xbb\xbf junk %PDF-1.4"));
        assert!(!sniff_pdf(b"PK\x03\x04 not a pdf"));
    }
}
