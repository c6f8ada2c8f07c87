//! `folio bench ingest`: extraction, embedding, end-to-end ingest and search figures on a
//! folder of PDFs, measured in one run on a scratch library.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use crate::embed::BATCH_SIZE;
use crate::error::{Error, Result};
use crate::library::{Access, Library, LibraryPaths};
use crate::retrieve::{SearchMode, SearchOptions, SearchTimings};
use crate::system::{peak_rss_bytes, reset_peak_rss, ResidentSampler};

pub mod models;
pub mod speed;

#[derive(Debug, Clone)]
pub struct IngestBenchOptions {
    pub models: PathBuf,
    /// Questions to search for (plain lines, or JSONL with a `question` field).
    pub queries: Option<PathBuf>,
    pub searches: usize,
    /// Chunks embedded in the embedding-only measurement.
    pub embed_sample: usize,
    /// Texts per forward pass in the embedding-only measurement.
    pub batch_size: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub items: u64,
    pub seconds: f64,
    pub per_second: f64,
}

impl Rate {
    fn new(items: u64, seconds: f64) -> Self {
        Rate {
            items,
            seconds,
            per_second: items as f64 / seconds.max(1e-9),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestBenchReport {
    pub files: usize,
    pub pages: u64,
    /// Pages extracted and normalised per second (both readers as needed), one file at a time.
    pub extraction: Rate,
    /// Chunks embedded per second, embedding alone.
    pub embedding: Rate,
    /// Pages per second for `add` of the whole folder, vectors included.
    pub end_to_end_pages: Rate,
    /// Chunks per second for `add` of the whole folder, vectors included.
    pub end_to_end_chunks: Rate,
    /// End-to-end chunk rate over embedding-only chunk rate (target ≥ 0.8).
    pub end_to_end_over_embedding: f64,
    /// Peak resident memory during `add` (the extraction and embedding steps before it are
    /// not counted where the peak can be reset, i.e. on Linux).
    pub peak_rss_bytes: Option<u64>,
    /// Resident memory sampled every 100 ms during `add`: median and 95th percentile, the
    /// working set most of the run keeps (the peak is a single moment).
    pub median_rss_bytes: Option<u64>,
    pub p95_rss_bytes: Option<u64>,
    pub search: SearchLatency,
    pub threads: usize,
}

impl IngestBenchReport {
    pub fn to_table(&self) -> String {
        let mib = |bytes: Option<u64>| {
            bytes.map_or("n/a".to_string(), |b| {
                format!("{:.0} MiB", b as f64 / 1048576.0)
            })
        };
        let rss = format!(
            "{} (median {}, p95 {})",
            mib(self.peak_rss_bytes),
            mib(self.median_rss_bytes),
            mib(self.p95_rss_bytes)
        );
        format!(
            "files {} · pages {} · threads {}\n\
             {:<34} {:>10.1} pages/s  ({} pages in {:.1}s)\n\
             {:<34} {:>10.1} chunks/s ({} chunks in {:.1}s)\n\
             {:<34} {:>10.1} pages/s  ({:.1}s)\n\
             {:<34} {:>10.1} chunks/s (ratio to embedding alone {:.2})\n\
             {:<34} {:>10}\n\
             {}",
            self.files,
            self.pages,
            self.threads,
            "extraction alone",
            self.extraction.per_second,
            self.extraction.items,
            self.extraction.seconds,
            "embedding alone",
            self.embedding.per_second,
            self.embedding.items,
            self.embedding.seconds,
            "end-to-end ingest",
            self.end_to_end_pages.per_second,
            self.end_to_end_pages.seconds,
            "end-to-end ingest",
            self.end_to_end_chunks.per_second,
            self.end_to_end_over_embedding,
            "peak RSS while ingesting",
            rss,
            self.search.to_table(),
        )
    }
}

pub fn pdfs_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("pdf")))
        .collect();
    files.sort();
    files
}

fn read_queries(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| {
                    v.get("question")
                        .and_then(|q| q.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| line.to_string())
        })
        .collect())
}

/// Queries made of a few words from the chunks themselves, spread over the corpus.
fn queries_from_chunks(chunks: &[String], count: usize) -> Vec<String> {
    let step = (chunks.len() / count.max(1)).max(1);
    chunks
        .iter()
        .step_by(step)
        .filter_map(|text| {
            let words: Vec<&str> = text
                .split_whitespace()
                .filter(|w| w.len() > 3)
                .take(6)
                .collect();
            (words.len() >= 3).then(|| words.join(" "))
        })
        .take(count)
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

pub async fn ingest(dir: &Path, options: &IngestBenchOptions) -> Result<IngestBenchReport> {
    let files = pdfs_in(dir);
    if files.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no .pdf files under {}",
            dir.display()
        )));
    }

    // 1. Extraction alone (reading, both readers as needed, normalisation, chunking).
    let speed::ExtractionRun {
        rate: extraction,
        chunk_texts,
        ..
    } = speed::extraction(&files).await;
    let pages = extraction.items;

    // 2. Embedding alone, in the rounds ingestion uses.
    let sample: Vec<String> = chunk_texts
        .iter()
        .take(options.embed_sample)
        .cloned()
        .collect();
    let (embedding, _) = speed::embedding(&options.models, &sample, options.batch_size)?;
    // The search queries are taken now, so the corpus' text (tens of MB at the larger scales)
    // is not held during ingestion and counted in its peak memory.
    let mut queries = match &options.queries {
        Some(path) => read_queries(path)?,
        None => queries_from_chunks(&chunk_texts, options.searches),
    };
    if queries.is_empty() {
        queries.push("document".into());
    }
    drop((chunk_texts, sample));

    // 3. End to end into a scratch library.
    let scratch = std::env::temp_dir().join(format!("folio-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let paths = LibraryPaths {
        root: scratch.clone(),
        models: options.models.clone(),
    };
    let mut library = Library::open(paths, Access::Write).await?;
    // The peak below is that of ingestion alone, not of steps 1 and 2.
    reset_peak_rss();
    let sampler = ResidentSampler::start(Duration::from_millis(100));
    let started = Instant::now();
    let report = library
        .add(
            &[dir.to_path_buf()],
            &crate::ingest::AddOptions::default(),
            &|_| {},
        )
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    let e2e_pages = report
        .files
        .iter()
        .filter(|f| f.outcome.is_added())
        .map(|f| f.pages as u64)
        .sum();
    let e2e_chunks = report
        .files
        .iter()
        .filter(|f| f.outcome.is_added())
        .map(|f| f.chunks as u64)
        .sum();
    let end_to_end_pages = Rate::new(e2e_pages, seconds);
    let end_to_end_chunks = Rate::new(e2e_chunks, seconds);
    let peak = peak_rss_bytes();
    let mut resident: Vec<f64> = sampler.finish().into_iter().map(|b| b as f64).collect();
    resident.sort_by(f64::total_cmp);
    let resident_at = |p: f64| (!resident.is_empty()).then(|| percentile(&resident, p) as u64);

    // 4. Hybrid search latency (model warm, as in an interactive session).
    let latency = search_latency(&library, &queries, options.searches).await?;
    library.close().await;
    let _ = std::fs::remove_dir_all(&scratch);

    Ok(IngestBenchReport {
        files: files.len(),
        pages,
        end_to_end_over_embedding: end_to_end_chunks.per_second / embedding.per_second.max(1e-9),
        extraction,
        embedding,
        end_to_end_pages,
        end_to_end_chunks,
        peak_rss_bytes: peak,
        median_rss_bytes: resident_at(0.5),
        p95_rss_bytes: resident_at(0.95),
        search: latency,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    })
}

/// `folio bench search`: hybrid search latency on the library as it is, for the questions in
/// `queries` (plain lines, or JSONL with a `question` field).
pub async fn search(library: &Library, queries: &Path, count: usize) -> Result<SearchLatency> {
    let questions = read_queries(queries)?;
    if questions.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no questions in {}",
            queries.display()
        )));
    }
    search_latency(library, &questions, count).await
}

/// Hybrid search latency over `count` searches cycling through `queries` (k = 10, the model
/// warmed by one search first, as in an interactive session).
#[derive(Debug, Clone, Serialize)]
pub struct SearchLatency {
    pub queries: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Mean time per search stage.
    pub stages_mean: SearchTimings,
    /// With an approximate vector index: the share of the exact scan's 10 nearest passages that
    /// the indexed search also returns, over the distinct queries (none: every search is exact).
    pub approximate_recall_at_10: Option<f64>,
}

async fn search_latency(
    library: &Library,
    queries: &[String],
    count: usize,
) -> Result<SearchLatency> {
    let search_options = SearchOptions {
        mode: SearchMode::Hybrid,
        k: 10,
        scope: Vec::new(),
    };
    if let Some(first) = queries.first() {
        library.search(first, search_options.clone()).await?;
    }
    let mut latencies = Vec::with_capacity(count);
    let mut stages = SearchTimings::default();
    for query in queries.iter().cycle().take(count) {
        let started = Instant::now();
        let t = library.search(query, search_options.clone()).await?.timings;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        stages.keyword_ms += t.keyword_ms;
        stages.query_embedding_ms += t.query_embedding_ms;
        stages.vector_ms += t.vector_ms;
        stages.catalog_ms += t.catalog_ms;
        stages.total_ms += t.total_ms;
    }
    let n = latencies.len().max(1) as f64;
    latencies.sort_by(f64::total_cmp);
    let approximate_recall_at_10 = if library.vectors.has_approximate_index().await? {
        Some(approximate_recall(library, queries).await?)
    } else {
        None
    };
    Ok(SearchLatency {
        queries: latencies.len(),
        p50_ms: percentile(&latencies, 0.5),
        p95_ms: percentile(&latencies, 0.95),
        stages_mean: SearchTimings {
            keyword_ms: stages.keyword_ms / n,
            query_embedding_ms: stages.query_embedding_ms / n,
            vector_ms: stages.vector_ms / n,
            catalog_ms: stages.catalog_ms / n,
            total_ms: stages.total_ms / n,
        },
        approximate_recall_at_10,
    })
}

/// The share of the exact 10 nearest vectors that the indexed search also finds.
async fn approximate_recall(library: &Library, queries: &[String]) -> Result<f64> {
    let embedder = library.embedder()?;
    let mut distinct: Vec<&str> = queries.iter().map(String::as_str).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let (mut found, mut wanted) = (0usize, 0usize);
    for query in distinct {
        let Some(vector) = embedder.embed(&[query])?.pop() else {
            continue;
        };
        let approximate = library.vectors.search(&vector, 10, &[]).await?;
        let exact = library.vectors.search_exact(&vector, 10).await?;
        wanted += exact.len();
        found += exact
            .iter()
            .filter(|hit| approximate.iter().any(|a| a.chunk_id == hit.chunk_id))
            .count();
    }
    Ok(found as f64 / wanted.max(1) as f64)
}

impl SearchLatency {
    pub fn to_table(&self) -> String {
        let vector_search = match self.approximate_recall_at_10 {
            Some(recall) => format!(
                "{:<34} approximate index, recall@10 {recall:.3} of the exact scan\n",
                "  vector search"
            ),
            None => format!("{:<34} exact scan\n", "  vector search"),
        };
        format!(
            "{:<34} {:>10.1} ms p50, {:.1} ms p95 over {} queries\n\
             {:<34} keyword {:.1} ms, query embedding {:.1} ms, vector {:.1} ms, catalog {:.1} ms\n\
             {vector_search}",
            "hybrid search",
            self.p50_ms,
            self.p95_ms,
            self.queries,
            "  mean per stage",
            self.stages_mean.keyword_ms,
            self.stages_mean.query_embedding_ms,
            self.stages_mean.vector_ms,
            self.stages_mean.catalog_ms,
        )
    }
}

/// One question of a QA set with page-level gold (`../shared/eval/*/qa.jsonl`).
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct QaRecord {
    #[serde(default)]
    pub id: String,
    pub question: String,
    /// The expected answer, when known (its figures count as evidence on any page).
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default = "answerable_default")]
    pub answerable: bool,
}

/// Reads a JSONL question file (blank lines skipped).
pub(crate) fn read_qa(path: &Path) -> Result<Vec<QaRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| Error::InvalidInput(format!("{} line {}: {e}", path.display(), i + 1)))
        })
        .collect()
}

fn answerable_default() -> bool {
    true
}

#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Evidence {
    pub doc: String,
    pub page: i64,
}

/// Page-level retrieval quality of one search mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeQuality {
    pub mode: SearchMode,
    pub recall_at_1: f64,
    /// Three is how many passages an answer's prompt holds.
    pub recall_at_3: f64,
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    pub mrr: f64,
    /// Questions with no gold page in the top 10.
    pub misses: Vec<String>,
    /// Each question's id and the 1-based rank of its first gold page in the top 10, so a
    /// change's winners and losers can be studied.
    pub gold_ranks: Vec<(String, Option<usize>)>,
    /// recall@5 and @10 when a page of a gold document that holds a key figure of the expected
    /// answer also counts (as the eval set's README asks).
    pub recall_at_5_with_figures: f64,
    pub recall_at_10_with_figures: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetrievalReport {
    pub questions: usize,
    pub modes: Vec<ModeQuality>,
    /// Hybrid search latency over the set's questions (answerable or not), cycled to 200.
    pub hybrid_latency: SearchLatency,
}

impl RetrievalReport {
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "{} answerable questions, page-level gold (+fig: or a gold document's page holding a key figure)\n\
             {:<8} {:>9} {:>9} {:>9} {:>10} {:>6} {:>10} {:>11}\n",
            self.questions,
            "mode",
            "recall@1",
            "recall@3",
            "recall@5",
            "recall@10",
            "MRR",
            "@5 +fig",
            "@10 +fig"
        );
        for m in &self.modes {
            out.push_str(&format!(
                "{:<8} {:>9.3} {:>9.3} {:>9.3} {:>10.3} {:>6.3} {:>10.3} {:>11.3}\n",
                format!("{:?}", m.mode).to_lowercase(),
                m.recall_at_1,
                m.recall_at_3,
                m.recall_at_5,
                m.recall_at_10,
                m.mrr,
                m.recall_at_5_with_figures,
                m.recall_at_10_with_figures
            ));
        }
        for m in &self.modes {
            out.push_str(&format!(
                "misses@10 {:?}: {}\n",
                m.mode,
                if m.misses.is_empty() {
                    "none".to_string()
                } else {
                    m.misses.join(", ")
                }
            ));
        }
        out.push_str(&self.hybrid_latency.to_table());
        out
    }
}

/// Ingests `pdfs` into `library` (unchanged files are skipped, so a kept library is reused) and
/// measures page recall@k and MRR of each search mode on the answerable questions of `qa`.
pub async fn retrieval(
    library: &mut Library,
    pdfs: &Path,
    qa: &Path,
    add: &crate::ingest::AddOptions,
) -> Result<RetrievalReport> {
    library.add(&[pdfs.to_path_buf()], add, &|_| {}).await?;
    let records = read_qa(qa)?;
    let questions: Vec<&QaRecord> = records
        .iter()
        .filter(|r| r.answerable && !r.evidence.is_empty())
        .collect();
    let mut modes = Vec::new();
    for mode in [SearchMode::Keyword, SearchMode::Vector, SearchMode::Hybrid] {
        let (mut at1, mut at3, mut at5, mut at10, mut reciprocal) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut figures_at5, mut figures_at10) = (0.0, 0.0);
        let mut misses = Vec::new();
        let mut gold_ranks = Vec::new();
        for record in &questions {
            let results = library
                .search(
                    &record.question,
                    SearchOptions {
                        mode,
                        k: 10,
                        scope: Vec::new(),
                    },
                )
                .await?;
            let rank = results.hits.iter().position(|hit| {
                let name = Path::new(&hit.chunk.file)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                record
                    .evidence
                    .iter()
                    .any(|e| Some(&e.doc) == name.as_ref() && e.page == hit.chunk.page)
            });
            let figures = record
                .answer
                .as_deref()
                .map(crate::figures::key_figures)
                .unwrap_or_default();
            let mut lenient_rank = None;
            for (i, hit) in results.hits.iter().enumerate() {
                let chunk = &hit.chunk;
                if models::is_evidence(
                    library,
                    record,
                    &figures,
                    &chunk.file,
                    chunk.document_id,
                    chunk.page,
                )
                .await?
                {
                    lenient_rank = Some(i);
                    break;
                }
            }
            if let Some(r) = lenient_rank {
                figures_at5 += f64::from(u8::from(r < 5));
                figures_at10 += 1.0;
            }
            gold_ranks.push((record.id.clone(), rank.map(|r| r + 1)));
            match rank {
                Some(r) => {
                    at1 += f64::from(u8::from(r < 1));
                    at3 += f64::from(u8::from(r < 3));
                    at5 += f64::from(u8::from(r < 5));
                    at10 += 1.0;
                    reciprocal += 1.0 / (r as f64 + 1.0);
                }
                None => misses.push(record.id.clone()),
            }
        }
        let n = questions.len().max(1) as f64;
        modes.push(ModeQuality {
            mode,
            recall_at_1: at1 / n,
            recall_at_3: at3 / n,
            recall_at_5: at5 / n,
            recall_at_10: at10 / n,
            mrr: reciprocal / n,
            misses,
            gold_ranks,
            recall_at_5_with_figures: figures_at5 / n,
            recall_at_10_with_figures: figures_at10 / n,
        });
    }
    let all_questions: Vec<String> = records.iter().map(|r| r.question.clone()).collect();
    let hybrid_latency = search_latency(library, &all_questions, 200).await?;
    Ok(RetrievalReport {
        questions: questions.len(),
        modes,
        hybrid_latency,
    })
}
