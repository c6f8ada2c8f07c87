//! Adding files to a library: discovery, per-file outcome, extraction, chunking, keyword
//! indexing, and (pipelined behind it) embedding.
//!
//! A document becomes keyword-searchable as soon as its text is extracted; vectors are computed
//! by a concurrent stage that works from the catalog's queue of chunks without a vector, so an
//! interrupted run resumes where it stopped.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::catalog::{DocStatus, Document, NewDocument};
use crate::chunk::{chunk_page, ChunkSizes};
use crate::error::{Error, Result};
use crate::extract::{extract_pdf, sniff_pdf, ExtractFailure, ExtractLimits};
use crate::library::{Indexer, Library};

/// Chunks embedded per round trip to the catalog and the vector index.
const EMBED_ROUND: i64 = 64;

#[derive(Debug, Clone)]
pub struct AddOptions {
    /// Password for encrypted files (tried on every encrypted file of the batch).
    pub password: Option<String>,
    /// Files larger than this are not read.
    pub max_file_bytes: u64,
    pub limits: ExtractLimits,
    pub chunk_sizes: ChunkSizes,
    /// Compute vectors in this run (otherwise they stay queued for a later run).
    pub embed: bool,
}

impl Default for AddOptions {
    fn default() -> Self {
        AddOptions {
            password: None,
            max_file_bytes: 256 * 1024 * 1024,
            limits: ExtractLimits::default(),
            chunk_sizes: ChunkSizes::default(),
            embed: true,
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// New document, keyword-searchable now; vectors follow.
    Indexed,
    /// Same path, new content: the old chunks were replaced.
    Updated,
    /// Same path and content as before.
    Unchanged,
    /// Same content as a document already in the library under another path.
    Duplicate {
        of: String,
    },
    /// Needs a password (none given or wrong).
    Encrypted,
    /// Opens, but no page has extractable text (a scan): needs OCR.
    NoTextLayer,
    /// No reader could make sense of it.
    Damaged {
        reason: String,
    },
    TooLarge {
        bytes: u64,
        limit: u64,
    },
    /// Every reader exceeded the time limit.
    TimedOut,
    NotPdf,
    /// The file could not be read at all (permissions, vanished, symlink loop…).
    Unreadable {
        reason: String,
    },
}

impl Outcome {
    /// Whether the file's text is (now or already) in the library.
    pub fn is_added(&self) -> bool {
        matches!(self, Outcome::Indexed | Outcome::Updated)
    }

    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Indexed => "indexed",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::Encrypted => "encrypted",
            Outcome::NoTextLayer => "no text layer",
            Outcome::Damaged { .. } => "damaged",
            Outcome::TooLarge { .. } => "too large",
            Outcome::TimedOut => "timed out",
            Outcome::NotPdf => "not a PDF",
            Outcome::Unreadable { .. } => "unreadable",
        }
    }
}

/// One file's result, as shown in the outcome table.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub document_id: Option<i64>,
    pub pages: usize,
    pub pages_without_text: usize,
    pub chunks: usize,
    pub extractor: String,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

impl FileReport {
    fn new(file: String, outcome: Outcome) -> Self {
        FileReport {
            file,
            outcome,
            document_id: None,
            pages: 0,
            pages_without_text: 0,
            chunks: 0,
            extractor: String::new(),
            warnings: Vec::new(),
            seconds: 0.0,
        }
    }
}

/// Progress of an `add`, for a progress bar or the desktop shell.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum IngestEvent {
    /// Files found to look at.
    Discovered {
        files: usize,
        skipped_non_pdf: usize,
    },
    FileStarted {
        file: String,
    },
    FileFinished {
        report: FileReport,
    },
    /// Vectors computed so far in this run, and chunks still waiting.
    Embedded {
        chunks: u64,
        waiting: u64,
    },
    Warning {
        message: String,
    },
}

/// The result of an `add`.
#[derive(Debug, Clone, Serialize)]
pub struct AddReport {
    pub files: Vec<FileReport>,
    pub skipped_non_pdf: usize,
    pub pages_extracted: usize,
    pub chunks_embedded: u64,
    pub chunks_waiting_for_vectors: i64,
    pub extract_seconds: f64,
    pub embed_seconds: f64,
    pub total_seconds: f64,
}

impl AddReport {
    /// True when at least one file is (now or already) in the library.
    pub fn anything_added(&self) -> bool {
        self.files.iter().any(|f| {
            f.outcome.is_added()
                || matches!(f.outcome, Outcome::Unchanged | Outcome::Duplicate { .. })
        })
    }
}

/// Expands files and folders (recursively, following links, loops reported) into candidates.
fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FileReport>, usize) {
    let mut candidates = Vec::new();
    let mut problems = Vec::new();
    let mut skipped = 0;
    let mut seen = HashSet::new();
    for path in paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
            {
                match entry {
                    Ok(entry) if entry.file_type().is_file() => {
                        let p = entry.path();
                        let has_pdf_extension =
                            p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
                        if has_pdf_extension || file_starts_like_pdf(p) {
                            if seen.insert(canonical(p)) {
                                candidates.push(p.to_path_buf());
                            }
                        } else {
                            skipped += 1;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let file = e
                            .path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| path.display().to_string());
                        problems.push(FileReport::new(
                            file,
                            Outcome::Unreadable {
                                reason: e.to_string(),
                            },
                        ));
                    }
                }
            }
        } else if seen.insert(canonical(path)) {
            candidates.push(path.clone());
        }
    }
    (candidates, problems, skipped)
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn file_starts_like_pdf(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 1024];
    std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .is_ok_and(|n| sniff_pdf(&head[..n]))
}

fn mtime_ns(metadata: &std::fs::Metadata) -> i64 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

/// A readable title from a file name: `2023_Q1-report.pdf` → `2023 Q1 report`.
fn title_from_path(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let title = stem.replace(['_', '-'], " ");
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        stem
    } else {
        title
    }
}

impl Library {
    /// Adds files and folders. One bad file never stops the batch: each gets an outcome. Only
    /// a failure of the library itself (a full disk, …) stops it; what was stored stays.
    pub async fn add(
        &mut self,
        paths: &[PathBuf],
        options: &AddOptions,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<AddReport> {
        let library = self.paths.root.clone();
        self.add_batch(paths, options, progress)
            .await
            .map_err(|e| e.explain_disk_full(&library))
    }

    async fn add_batch(
        &mut self,
        paths: &[PathBuf],
        options: &AddOptions,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<AddReport> {
        let started = Instant::now();
        let (candidates, mut reports, skipped) = discover(paths);
        progress(IngestEvent::Discovered {
            files: candidates.len() + reports.len(),
            skipped_non_pdf: skipped,
        });
        for report in &reports {
            progress(IngestEvent::FileFinished {
                report: report.clone(),
            });
        }
        let embedder = if options.embed {
            match self.embedder() {
                Ok(e) => Some(e),
                Err(e) => {
                    progress(IngestEvent::Warning {
                        message: format!(
                            "vectors not computed ({e}); keyword search works meanwhile"
                        ),
                    });
                    None
                }
            }
        } else {
            None
        };

        let (extraction_done_tx, extraction_done_rx) = watch::channel(false);
        let (new_chunks_tx, new_chunks_rx) = watch::channel(0u64);
        let mut indexer = self.indexer();
        let (catalog, vectors) = (indexer.catalog, indexer.vectors);
        let embed_stage = async {
            match embedder {
                Some(embedder) => {
                    embed_queue(
                        catalog,
                        vectors,
                        embedder,
                        extraction_done_rx,
                        new_chunks_rx,
                        progress,
                    )
                    .await
                }
                None => Ok((0, 0.0)),
            }
        };
        let extract_stage = async {
            let stage_started = Instant::now();
            let mut pages = 0usize;
            let mut result = Ok(());
            for candidate in candidates {
                let file = candidate.display().to_string();
                progress(IngestEvent::FileStarted { file: file.clone() });
                let file_started = Instant::now();
                let mut report = match indexer.add_file(&candidate, options).await {
                    Ok(report) => report,
                    // The catalog or an index failed (disk full, …): stop, keep what is stored.
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                report.seconds = file_started.elapsed().as_secs_f64();
                pages += report.pages;
                if report.outcome.is_added() {
                    new_chunks_tx.send_modify(|n| *n += report.chunks as u64);
                }
                progress(IngestEvent::FileFinished {
                    report: report.clone(),
                });
                reports.push(report);
            }
            let _ = extraction_done_tx.send(true);
            result.map(|()| (pages, stage_started.elapsed().as_secs_f64()))
        };
        let (extracted, embedded) = tokio::join!(extract_stage, embed_stage);
        let (pages_extracted, extract_seconds) = extracted?;
        let (chunks_embedded, embed_seconds) = embedded?;
        if chunks_embedded > 0 {
            self.vectors.compact().await?;
        }
        let counts = self.catalog.counts().await?;
        Ok(AddReport {
            files: reports,
            skipped_non_pdf: skipped,
            pages_extracted,
            chunks_embedded,
            chunks_waiting_for_vectors: counts.pending_chunks,
            extract_seconds,
            embed_seconds,
            total_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Brings the library in line with a watched folder: documents filed under it whose file
    /// is gone are removed (a rename is a removal plus a new file), then the folder is added
    /// (new and changed files are read; unchanged ones cost a hash). Returns the add report and
    /// the documents removed.
    pub async fn sync_folder(
        &mut self,
        folder: &Path,
        options: &AddOptions,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<(AddReport, Vec<Document>)> {
        let root = canonical(folder);
        let mut removed = Vec::new();
        for document in self.catalog.documents().await? {
            let file = Path::new(&document.file);
            if file.starts_with(&root) && !file.exists() {
                self.remove_document(document.id).await?;
                removed.push(document);
            }
        }
        if !root.is_dir() {
            return Err(Error::io(
                &root,
                std::io::Error::new(std::io::ErrorKind::NotFound, "the folder is gone"),
            ));
        }
        let report = self.add(&[root], options, progress).await?;
        Ok((report, removed))
    }

    /// Computes the vectors still missing (after an interrupted or keyword-only run).
    pub async fn embed_pending(
        &mut self,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<u64> {
        let library = self.paths.root.clone();
        self.embed_all_pending(progress)
            .await
            .map_err(|e| e.explain_disk_full(&library))
    }

    async fn embed_all_pending(
        &mut self,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<u64> {
        let embedder = self.embedder()?;
        let (_done_tx, done_rx) = watch::channel(true);
        let (_chunks_tx, chunks_rx) = watch::channel(0u64);
        let (embedded, _) = embed_queue(
            &self.catalog,
            &self.vectors,
            embedder,
            done_rx,
            chunks_rx,
            progress,
        )
        .await?;
        if embedded > 0 {
            self.vectors.compact().await?;
        }
        Ok(embedded)
    }
}

impl Indexer<'_> {
    /// Decides one file's fate. Errors are only those of the library itself (catalog, index).
    async fn add_file(&mut self, candidate: &Path, options: &AddOptions) -> Result<FileReport> {
        let path = canonical(candidate);
        let file = path.display().to_string();
        let metadata = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Ok(FileReport::new(file, Outcome::NotPdf)),
            Err(e) => {
                return Ok(FileReport::new(
                    file,
                    Outcome::Unreadable {
                        reason: e.to_string(),
                    },
                ))
            }
        };
        let size = metadata.len();
        let mtime = mtime_ns(&metadata);
        let existing = self.catalog.document_by_path(&file).await?;
        if let Some(doc) = &existing {
            let same_stat = doc.size_bytes == size as i64 && doc.mtime_ns == mtime;
            let retry_with_password =
                doc.status == DocStatus::Encrypted && options.password.is_some();
            if same_stat && !retry_with_password && doc.status != DocStatus::TimedOut {
                return Ok(unchanged(file, doc));
            }
        }
        if size > options.max_file_bytes {
            let outcome = Outcome::TooLarge {
                bytes: size,
                limit: options.max_file_bytes,
            };
            self.record_problem(
                &file,
                "",
                size,
                mtime,
                DocStatus::TooLarge,
                Vec::new(),
                existing.as_ref(),
            )
            .await?;
            return Ok(FileReport::new(file, outcome));
        }
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) => {
                return Ok(FileReport::new(
                    file,
                    Outcome::Unreadable {
                        reason: e.to_string(),
                    },
                ))
            }
        };
        if !sniff_pdf(&bytes[..bytes.len().min(1024)]) {
            return Ok(FileReport::new(file, Outcome::NotPdf));
        }
        let bytes = Arc::new(bytes);
        let hashed = bytes.clone();
        let sha256 =
            tokio::task::spawn_blocking(move || format!("{:x}", Sha256::digest(hashed.as_slice())))
                .await?;
        if let Some(doc) = &existing {
            if doc.sha256 == sha256 && !doc.status.is_problem() {
                return Ok(unchanged(file, doc));
            }
        }
        if let Some(original) = self.catalog.readable_document_by_sha256(&sha256).await? {
            if original.file != file {
                return Ok(FileReport::new(
                    file,
                    Outcome::Duplicate { of: original.file },
                ));
            }
        }
        let extraction = extract_pdf(bytes, options.password.clone(), options.limits).await;
        let extraction = match extraction {
            Ok(extraction) => extraction,
            Err(failure) => {
                let (status, outcome, warnings) = match failure {
                    ExtractFailure::Encrypted => {
                        (DocStatus::Encrypted, Outcome::Encrypted, Vec::new())
                    }
                    ExtractFailure::TimedOut => {
                        (DocStatus::TimedOut, Outcome::TimedOut, Vec::new())
                    }
                    ExtractFailure::Damaged(reason) => (
                        DocStatus::Damaged,
                        Outcome::Damaged {
                            reason: reason.clone(),
                        },
                        vec![reason],
                    ),
                };
                self.record_problem(
                    &file,
                    &sha256,
                    size,
                    mtime,
                    status,
                    warnings.clone(),
                    existing.as_ref(),
                )
                .await?;
                let mut report = FileReport::new(file, outcome);
                report.warnings = warnings;
                return Ok(report);
            }
        };
        let chunks: Vec<_> = extraction
            .pages
            .iter()
            .enumerate()
            .flat_map(|(i, text)| chunk_page(text, i as u32 + 1, options.chunk_sizes))
            .collect();
        let no_text = chunks.is_empty();
        let status = if no_text {
            DocStatus::NoTextLayer
        } else {
            DocStatus::Extracted
        };
        let mut warnings = extraction.warnings.clone();
        if no_text {
            warnings.push("no page has extractable text: a scan or images only (needs OCR)".into());
        }
        let new = NewDocument {
            file: file.clone(),
            sha256,
            title: title_from_path(&path),
            running_title: extraction.running_title,
            size_bytes: size as i64,
            mtime_ns: mtime,
            status,
            extractor: extraction.extractor.clone(),
            pages: extraction.pages,
            pages_without_text: extraction.pages_without_text as i64,
            warnings: warnings.clone(),
            chunks,
        };
        let replaces = existing.as_ref().map(|d| d.id);
        let document_id = self.catalog.insert_document(&new, replaces).await?;
        if let Some(old) = replaces {
            self.remove_document(old).await?;
        }
        if !no_text {
            self.index_keywords(document_id).await?;
        }
        let outcome = if no_text {
            Outcome::NoTextLayer
        } else if existing.as_ref().is_some_and(|d| !d.status.is_problem()) {
            Outcome::Updated
        } else {
            Outcome::Indexed
        };
        Ok(FileReport {
            file,
            outcome,
            document_id: Some(document_id),
            pages: new.pages.len(),
            pages_without_text: extraction.pages_without_text,
            chunks: new.chunks.len(),
            extractor: extraction.extractor,
            warnings,
            seconds: 0.0,
        })
    }

    /// Keeps a record of a file that could not be indexed, so the library shows it.
    #[allow(clippy::too_many_arguments)]
    async fn record_problem(
        &mut self,
        file: &str,
        sha256: &str,
        size: u64,
        mtime: i64,
        status: DocStatus,
        warnings: Vec<String>,
        existing: Option<&Document>,
    ) -> Result<()> {
        let record = NewDocument {
            file: file.to_string(),
            sha256: sha256.to_string(),
            title: title_from_path(Path::new(file)),
            running_title: String::new(),
            size_bytes: size as i64,
            mtime_ns: mtime,
            status,
            extractor: String::new(),
            pages: Vec::new(),
            pages_without_text: 0,
            warnings,
            chunks: Vec::new(),
        };
        let replaces = existing.map(|d| d.id);
        self.catalog.insert_document(&record, replaces).await?;
        if let Some(old) = replaces {
            self.remove_document(old).await?;
        }
        Ok(())
    }
}

fn unchanged(file: String, doc: &Document) -> FileReport {
    let outcome = match doc.status {
        DocStatus::Encrypted => Outcome::Encrypted,
        DocStatus::NoTextLayer => Outcome::NoTextLayer,
        DocStatus::Damaged => Outcome::Damaged {
            reason: doc.warnings.first().cloned().unwrap_or_default(),
        },
        _ => Outcome::Unchanged,
    };
    FileReport {
        document_id: Some(doc.id),
        pages: doc.pages as usize,
        pages_without_text: doc.pages_without_text as usize,
        chunks: doc.chunks as usize,
        extractor: doc.extractor.clone(),
        ..FileReport::new(file, outcome)
    }
}

/// Embeds queued chunks until the queue is empty and extraction has finished.
/// Returns (chunks embedded, seconds spent embedding).
async fn embed_queue(
    catalog: &crate::catalog::Catalog,
    vectors: &crate::index::VectorIndex,
    embedder: Arc<dyn crate::embed::Embedder>,
    mut extraction_done: watch::Receiver<bool>,
    mut new_chunks: watch::Receiver<u64>,
    progress: &(dyn Fn(IngestEvent) + Send + Sync),
) -> Result<(u64, f64)> {
    let mut embedded = 0u64;
    let mut busy = Duration::ZERO;
    loop {
        let batch = catalog.chunks_awaiting_vectors(EMBED_ROUND).await?;
        if batch.is_empty() {
            if *extraction_done.borrow() {
                // Extraction may have queued more between our query and its end: look once more.
                if catalog.chunks_awaiting_vectors(1).await?.is_empty() {
                    break;
                }
                continue;
            }
            tokio::select! {
                _ = extraction_done.changed() => {}
                _ = new_chunks.changed() => {}
            }
            continue;
        }
        let round_started = Instant::now();
        let texts: Vec<String> = batch.iter().map(|(_, _, text)| text.clone()).collect();
        let model = embedder.clone();
        let computed = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            model.embed(&refs)
        })
        .await??;
        let rows: Vec<(i64, i64, Vec<f32>)> = batch
            .iter()
            .zip(computed)
            .map(|((chunk_id, document_id, _), vector)| (*chunk_id, *document_id, vector))
            .collect();
        vectors.add(&rows).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        catalog.mark_embedded(&ids).await?;
        busy += round_started.elapsed();
        embedded += ids.len() as u64;
        let waiting = catalog.pending_chunks().await.unwrap_or(0);
        progress(IngestEvent::Embedded {
            chunks: embedded,
            waiting: waiting.max(0) as u64,
        });
    }
    Ok((embedded, busy.as_secs_f64()))
}
