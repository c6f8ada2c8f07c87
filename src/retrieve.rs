//! Retrieval: BM25 and vector candidates fused by reciprocal-rank fusion, resolved to cited
//! passages (document, page, char span) through the catalog.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde::Serialize;

use crate::catalog::ChunkRecord;
use crate::error::Result;
use crate::index::keyword::{fnv1a, DocumentCoverage};
use crate::library::Library;

/// Reciprocal-rank fusion constant (Cormack et al.): the smaller, the more the top ranks of
/// each list weigh. The usual 60 flattened the lists too much on the docugami-dev set (page
/// recall@5 0.53 at 60, 0.57 at 20, with one passage per page).
pub const RRF_K: f32 = 20.0;

/// What a passage gains in hybrid search when the question names its document by words of
/// the document's title ("in the Q2 2023 report"): as much as a first rank in a third list.
/// Near-identical documents (the same report for other quarters) otherwise tie on content.
/// On docugami-dev: hybrid page recall@5 0.569 → 0.647, recall@1 0.196 → 0.294 (twice the
/// bonus gave the same figures).
const NAMED_DOCUMENT_BONUS: f32 = 1.0 / (RRF_K + 1.0);

/// Share of their distinct words (Jaccard) above which a passage of another document is the
/// same text with other names, dates and figures filled in. On docugami-dev, the certification
/// paragraphs of Apple's and NVIDIA's reports share 1.0, their cover pages 0.73, and one
/// company's notes repeated from quarter to quarter 0.8–1.0 (found in too few of the
/// documents to count as templates); unrelated sections share about 0.2.
const TEMPLATE_OVERLAP: f64 = 0.6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    #[default]
    Hybrid,
    Keyword,
    Vector,
}

#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub mode: SearchMode,
    pub k: usize,
    /// Restrict to these document ids; empty searches the whole library.
    pub scope: Vec<i64>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            mode: SearchMode::Hybrid,
            k: 5,
            scope: Vec::new(),
        }
    }
}

/// A retrieved passage with its provenance.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub chunk: ChunkRecord,
    /// Fused score (hybrid), BM25 (keyword) or cosine similarity (vector).
    pub score: f32,
    pub keyword_rank: Option<usize>,
    pub vector_rank: Option<usize>,
    /// Cosine similarity to the query, when the passage was a vector candidate.
    pub similarity: Option<f32>,
    /// Char ranges in `text` that match query terms.
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// The mode actually used (hybrid falls back to keyword when no vectors exist yet).
    pub mode: SearchMode,
    /// Chunks of searchable documents whose vectors are still being computed.
    pub chunks_without_vectors: i64,
    /// Best cosine similarity among the vector candidates: how close anything in the library
    /// comes to the query's meaning (used to decide that a question is not covered).
    pub top_similarity: Option<f32>,
    pub warnings: Vec<String>,
    pub timings: SearchTimings,
}

/// Where a search spent its time, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SearchTimings {
    pub keyword_ms: f64,
    pub query_embedding_ms: f64,
    pub vector_ms: f64,
    /// Counting pending vectors and resolving hits to passages.
    pub catalog_ms: f64,
    pub total_ms: f64,
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// A chunk's fused score, its 1-based rank in the keyword and vector lists, and its cosine
/// similarity when it was a vector candidate.
type Fused = (f32, Option<usize>, Option<usize>, Option<f32>);

impl Library {
    pub async fn search(&self, query: &str, options: SearchOptions) -> Result<SearchResults> {
        let started = Instant::now();
        let mut timings = SearchTimings::default();
        // The query embedding (the slowest stage) starts first, on a blocking thread, so the
        // catalog counts, the keyword search and the title lookup all run beside it.
        let embedding_job =
            (options.mode != SearchMode::Keyword && !query.trim().is_empty()).then(|| {
                self.embedder().map(|embedder| {
                    let text = query.to_string();
                    let stage = Instant::now();
                    tokio::task::spawn_blocking(move || {
                        let vector = embedder.embed(&[text.as_str()]);
                        (vector, elapsed_ms(stage))
                    })
                })
            });
        let stage = Instant::now();
        let state = self.catalog.search_state().await?;
        let mut warnings = Vec::new();
        let mut mode = options.mode;
        if !state.has_vectors && mode == SearchMode::Hybrid {
            mode = SearchMode::Keyword;
            if state.has_passages {
                warnings.push("no vectors computed yet: keyword results only".to_string());
            }
        }
        // Counted only while passages wait for their vectors (during or after an interrupted
        // ingestion), so that the warning can say how many.
        let mut pending_chunks = 0;
        if state.has_pending {
            let counts = self.counts().await?;
            pending_chunks = counts.pending_chunks;
            if mode != SearchMode::Keyword {
                warnings.push(format!(
                    "{} of {} passages are not embedded yet; they are found by keyword only",
                    counts.pending_chunks, counts.keyword_chunks
                ));
            }
        }
        timings.catalog_ms = elapsed_ms(stage);
        let candidates = (options.k * 5).max(50);
        // Without vectors in the library the embedding is not needed (nor waited for).
        let query_vector = match embedding_job {
            Some(job) if mode != SearchMode::Keyword => Some(job?),
            _ => None,
        };
        let stage = Instant::now();
        let keyword_hits = if mode != SearchMode::Vector {
            self.keyword.search(query, candidates, &options.scope)?
        } else {
            Vec::new()
        };
        timings.keyword_ms = elapsed_ms(stage);
        let named = if mode == SearchMode::Hybrid && options.scope.is_empty() {
            let stage = Instant::now();
            let titles = self.catalog.document_titles().await?;
            timings.catalog_ms += elapsed_ms(stage);
            let stage = Instant::now();
            let coverage = self
                .keyword
                .document_coverage(&proper_names(query).join(" "))?;
            timings.keyword_ms += elapsed_ms(stage);
            let named = narrowest(
                named_documents(query, &titles),
                characterised_documents(&coverage),
            );
            if asks_for_latest(query) {
                latest_documents(named, &titles)
            } else {
                named
            }
        } else {
            HashSet::new()
        };
        let vector_hits = match query_vector {
            Some(job) => {
                let (vector, embedding_ms) = job.await?;
                let vector = vector?;
                timings.query_embedding_ms = embedding_ms;
                let stage = Instant::now();
                let hits = match vector.first() {
                    Some(v) => self.vectors.search(v, candidates, &options.scope).await?,
                    None => Vec::new(),
                };
                timings.vector_ms = elapsed_ms(stage);
                hits
            }
            None => Vec::new(),
        };

        // Fuse: each list contributes 1/(k + rank) per chunk; single-mode keeps its own score.
        let mut fused: HashMap<i64, Fused> = HashMap::new();
        for (rank, hit) in keyword_hits.iter().enumerate() {
            let entry = fused.entry(hit.chunk_id).or_insert((0.0, None, None, None));
            entry.0 += match mode {
                SearchMode::Keyword => hit.score,
                _ => 1.0 / (RRF_K + rank as f32 + 1.0),
            };
            entry.1.get_or_insert(rank + 1);
        }
        for (rank, hit) in vector_hits.iter().enumerate() {
            let entry = fused.entry(hit.chunk_id).or_insert((0.0, None, None, None));
            entry.0 += match mode {
                SearchMode::Vector => hit.similarity,
                _ => 1.0 / (RRF_K + rank as f32 + 1.0),
            };
            entry.2.get_or_insert(rank + 1);
            entry.3.get_or_insert(hit.similarity);
        }
        let mut ranked: Vec<(i64, Fused)> = fused.into_iter().collect();
        ranked.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        // Resolve every candidate: chunks of documents removed meanwhile are skipped, and only
        // the best passage of each page is kept (overlapping neighbours would crowd out other
        // pages, and a citation points at a page anyway).
        ranked.truncate(candidates * 2);
        let ids: Vec<i64> = ranked.iter().map(|(id, _)| *id).collect();
        let stage = Instant::now();
        let mut records: HashMap<i64, ChunkRecord> = self
            .catalog
            .chunk_records(&ids)
            .await?
            .into_iter()
            .map(|r| (r.chunk_id, r))
            .collect();
        timings.catalog_ms += elapsed_ms(stage);
        if !named.is_empty() {
            for (id, fused) in &mut ranked {
                if records
                    .get(id)
                    .is_some_and(|r| named.contains(&r.document_id))
                {
                    fused.0 += NAMED_DOCUMENT_BONUS;
                }
            }
            ranked.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        }
        let terms = query_terms(query);
        let mut pages_seen = HashSet::new();
        let hits = ranked
            .into_iter()
            .filter_map(|(id, fused)| records.remove(&id).map(|chunk| (chunk, fused)))
            .filter(|(chunk, _)| pages_seen.insert((chunk.document_id, chunk.page)))
            .map(
                |(chunk, (score, keyword_rank, vector_rank, similarity))| SearchHit {
                    highlights: highlight(&chunk.text, &terms),
                    chunk,
                    score,
                    keyword_rank,
                    vector_rank,
                    similarity,
                },
            )
            .take(options.k)
            .collect();
        timings.total_ms = elapsed_ms(started);
        Ok(SearchResults {
            hits,
            mode,
            chunks_without_vectors: pending_chunks,
            top_similarity: vector_hits.iter().map(|h| h.similarity).reduce(f32::max),
            warnings,
            timings,
        })
    }
}

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "was", "were", "what", "which", "who", "how", "does", "did",
    "that", "this", "with", "from", "into", "about", "have", "has", "had", "its", "their", "there",
    "when", "where", "why", "is", "of", "in", "on", "to", "a", "an", "as", "at", "by", "be", "or",
    "it", "do",
];

/// The lower-cased alphanumeric words of `text`, in order.
pub fn lowercase_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Lower-cased words of a title or question, with quarters written out ("second quarter")
/// in the short form file names use ("q2").
fn title_words(text: &str) -> Vec<String> {
    let words = lowercase_words(text);
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let ordinal = ["first", "second", "third", "fourth"]
            .iter()
            .position(|o| *o == words[i]);
        match (ordinal, words.get(i + 1).map(String::as_str)) {
            (Some(n), Some("quarter")) => {
                out.push(format!("q{}", n + 1));
                i += 2;
            }
            _ => {
                out.push(words[i].clone());
                i += 1;
            }
        }
    }
    out
}

/// The documents a question names by words of their titles: each title scores the rarity
/// among titles (ln N/df) of the question's words it holds; the best-scoring titles are named.
/// A word found in every title names nothing, so one-document libraries name none.
fn named_documents(query: &str, titles: &[(i64, String)]) -> HashSet<i64> {
    let asked: HashSet<String> = title_words(query)
        .into_iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect();
    let words_of: Vec<(i64, HashSet<String>)> = titles
        .iter()
        .map(|(id, title)| (*id, title_words(title).into_iter().collect()))
        .collect();
    let mut titles_with: HashMap<&str, usize> = HashMap::new();
    for (_, words) in &words_of {
        for word in words.iter().filter(|w| asked.contains(*w)) {
            *titles_with.entry(word.as_str()).or_default() += 1;
        }
    }
    let total = titles.len() as f32;
    let mut best = f32::EPSILON;
    let mut named = HashSet::new();
    for (id, words) in &words_of {
        let score: f32 = words
            .iter()
            .filter_map(|w| titles_with.get(w.as_str()))
            .map(|&df| (total / df as f32).ln())
            .sum();
        if score > best * (1.0 + 1e-4) {
            best = score;
            named.clear();
        }
        if score >= best * (1.0 - 1e-4) {
            named.insert(*id);
        }
    }
    named
}

/// Whether a question asks about the newest report ("in the latest 10-Q", "most recent quarter").
fn asks_for_latest(query: &str) -> bool {
    let words = lowercase_words(query);
    words.iter().enumerate().any(|(i, w)| {
        w == "latest" || w == "newest" || (w == "recent" && i > 0 && words[i - 1] == "most")
    })
}

/// When a title dates its document ("2023 Q3 AAPL", "Annual report 2022"): (year, quarter),
/// quarter 0 when none is given.
fn title_date(title: &str) -> Option<(u16, u8)> {
    let words = title_words(title);
    let year = words
        .iter()
        .filter(|w| w.len() == 4 && (w.starts_with("19") || w.starts_with("20")))
        .filter_map(|w| w.parse::<u16>().ok())
        .max()?;
    let quarter = words
        .iter()
        .filter_map(|w| w.strip_prefix('q')?.parse::<u8>().ok())
        .filter(|q| (1..=4).contains(q))
        .max()
        .unwrap_or(0);
    Some((year, quarter))
}

/// The newest of `candidates` (of every document when there are none) by the date in its
/// title; the candidates unchanged when no title is dated.
fn latest_documents(candidates: HashSet<i64>, titles: &[(i64, String)]) -> HashSet<i64> {
    let dated: Vec<(i64, (u16, u8))> = titles
        .iter()
        .filter(|(id, _)| candidates.is_empty() || candidates.contains(id))
        .filter_map(|(id, title)| Some((*id, title_date(title)?)))
        .collect();
    match dated.iter().map(|(_, date)| *date).max() {
        Some(newest) => dated
            .into_iter()
            .filter(|(_, date)| *date == newest)
            .map(|(id, _)| id)
            .collect(),
        None => candidates,
    }
}

/// Words a question writes as names: capitalised words of two letters or more ("Apple's",
/// "NVIDIA", "Q3") other than the first word of each of its sentences and the tails of
/// hyphenated words ("10-Qs").
fn proper_names(query: &str) -> Vec<&str> {
    let is_delimiter = |c: char| !c.is_alphanumeric() && c != '\'';
    let mut names = Vec::new();
    let mut sentence_start = true;
    let mut after_hyphen = false;
    for piece in query.split_inclusive(is_delimiter) {
        let word = piece.trim_end_matches(is_delimiter);
        if !word.is_empty() {
            // One letter is an initial or a form's letter ("R&D", "10-Q"), not a name.
            let is_name = word.chars().nth(1).is_some()
                && word.chars().next().is_some_and(char::is_uppercase);
            if is_name && !sentence_start && !after_hyphen {
                names.push(word);
            }
            sentence_start = false;
        }
        after_hyphen = piece.ends_with('-');
        if piece.ends_with(['.', '?', '!']) {
            sentence_start = true;
        }
    }
    names
}

impl Library {
    /// The hits whose text is a template rather than their document's own: near-copies of it
    /// are in at least half of the library's other documents, and in two or more (the
    /// certification every quarterly report ends with, a form's cover page). Such text matches
    /// many questions and answers none. Libraries of one or two documents have no templates.
    pub(crate) async fn template_passages(&self, hits: &[SearchHit]) -> Result<HashSet<i64>> {
        let documents = self.catalog.document_titles().await?.len();
        let mut templates = HashSet::new();
        if documents < 3 {
            return Ok(templates);
        }
        // Copies are needed in half of the other documents; a few more candidates than that
        // leave room for passages that share the sampled words and little else.
        let limit = documents * 2;
        for hit in hits {
            let candidates =
                self.keyword
                    .copy_candidates(&hit.chunk.text, hit.chunk.document_id, limit)?;
            // The documents they come from bound the copies' holders: too few, nothing to check.
            let candidate_documents: HashSet<i64> =
                candidates.iter().map(|(_, document)| *document).collect();
            if candidate_documents.len() < 2 || candidate_documents.len() * 2 < documents - 1 {
                continue;
            }
            let ids: Vec<i64> = candidates.iter().map(|(chunk_id, _)| *chunk_id).collect();
            let words = word_set(&hit.chunk.text);
            let holders: HashSet<i64> = self
                .catalog
                .chunk_records(&ids)
                .await?
                .iter()
                .filter(|other| word_overlap(&words, &word_set(&other.text)) >= TEMPLATE_OVERLAP)
                .map(|other| other.document_id)
                .collect();
            if holders.len() >= 2 && holders.len() * 2 >= documents - 1 {
                templates.insert(hit.chunk.chunk_id);
            }
        }
        Ok(templates)
    }

    /// The names `question` writes (no figures: periods are checked apart) that no passage of
    /// `documents` holds. Passages about a report that never writes "Jensen" are not about
    /// Jensen Huang, however close they are otherwise, and a small model would answer from
    /// them anyway, with a figure of something else.
    pub(crate) fn names_absent_from(
        &self,
        question: &str,
        documents: &HashSet<i64>,
    ) -> Result<Vec<String>> {
        let mut absent: Vec<String> = Vec::new();
        for name in proper_names(question) {
            if name.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            let coverage = self.keyword.document_coverage(name)?;
            let held = coverage
                .words
                .iter()
                .all(|(_, per_document)| per_document.keys().any(|id| documents.contains(id)));
            let name = name.trim_end_matches("'s").to_string();
            if !held && !absent.contains(&name) {
                absent.push(name);
            }
        }
        Ok(absent)
    }
}

/// Documents a question names by a proper name that runs through them and not through the rest
/// of the library ("Apple" in a library of Apple and NVIDIA filings: the company's name in the
/// running header of every page). Each document scores, per name the question writes, the
/// name's rarity among documents (ln N/df) when at least `RUNS_THROUGH_SHARE` of the document's
/// passages hold it; the best-scoring documents are named. A name found throughout every
/// document names none.
fn characterised_documents(coverage: &DocumentCoverage) -> HashSet<i64> {
    /// A name mentioned in passing (a competitor, a customer) is not what a document is about.
    const RUNS_THROUGH_SHARE: f32 = 0.1;
    let total = coverage.passages.len();
    let mut scores: HashMap<i64, f32> = HashMap::new();
    for (_, per_document) in &coverage.words {
        let holders: Vec<i64> = per_document
            .iter()
            .filter(|(id, &n)| {
                coverage.passages.get(id).is_some_and(|&passages| {
                    n as f32 >= RUNS_THROUGH_SHARE * passages.max(1) as f32
                })
            })
            .map(|(id, _)| *id)
            .collect();
        if holders.is_empty() || holders.len() >= total {
            continue;
        }
        let rarity = (total as f32 / holders.len() as f32).ln();
        for id in holders {
            *scores.entry(id).or_default() += rarity;
        }
    }
    let best = scores.values().copied().fold(0.0, f32::max);
    scores
        .into_iter()
        .filter(|&(_, score)| best > 0.0 && score >= best * (1.0 - 1e-4))
        .map(|(id, _)| id)
        .collect()
}

/// The documents a question points at, from its title words and from the words running through
/// documents: both agree → where they agree; otherwise the title's choice, else the content's.
fn narrowest(by_title: HashSet<i64>, by_content: HashSet<i64>) -> HashSet<i64> {
    let both: HashSet<i64> = by_title.intersection(&by_content).copied().collect();
    if !both.is_empty() {
        both
    } else if !by_title.is_empty() {
        by_title
    } else {
        by_content
    }
}

/// A passage's distinct words, lower-cased and hashed, for comparing passages by the share of
/// words they hold in common.
pub fn word_set(text: &str) -> HashSet<u64> {
    let mut lowered = String::new();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|word| {
            lowered.clear();
            lowered.extend(word.chars().flat_map(char::to_lowercase));
            fnv1a(lowered.as_bytes())
        })
        .collect()
}

/// Share of their distinct words two passages hold in common (Jaccard); 0 when both are empty.
pub fn word_overlap(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let shared = a.intersection(b).count();
    let all = a.len() + b.len() - shared;
    if all == 0 {
        0.0
    } else {
        shared as f64 / all as f64
    }
}

/// Lower-cased content words of a query (no stopwords, no single letters), in order.
pub fn content_words(query: &str) -> Vec<String> {
    lowercase_words(query)
        .into_iter()
        .filter(|w| w.chars().count() >= 2 && !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// Lower-cased content words of a query, for highlighting.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms = content_words(query);
    terms.sort();
    terms.dedup();
    terms
}

/// Char ranges of words in `text` matching a term (same word, or one a prefix of the other
/// with at least 4 letters in common, so "revenue" marks "revenues").
pub fn highlight(text: &str, terms: &[String]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut word_start: Option<usize> = None;
    let mut word = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().chain(std::iter::once(&' ')).enumerate() {
        if c.is_alphanumeric() {
            word_start.get_or_insert(i);
            word.extend(c.to_lowercase());
        } else if let Some(start) = word_start.take() {
            if terms.iter().any(|t| words_match(&word, t)) {
                ranges.push((start, i));
            }
            word.clear();
        }
    }
    ranges
}

fn words_match(word: &str, term: &str) -> bool {
    if word == term {
        return true;
    }
    let (short, long) = if word.len() < term.len() {
        (word, term)
    } else {
        (term, word)
    };
    short.chars().count() >= 4 && long.starts_with(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_name_documents_by_the_rare_words_of_their_titles() {
        let titles: Vec<(i64, String)> = [
            "2022 Q3 AAPL",
            "2022 Q3 NVDA",
            "2023 Q1 AAPL",
            "2023 Q2 AAPL",
            "2023 Q2 NVDA",
            "2023 Q3 AAPL",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| (i as i64, t.to_string()))
        .collect();
        let named = |q: &str| {
            let mut ids: Vec<i64> = named_documents(q, &titles).into_iter().collect();
            ids.sort();
            ids
        };
        assert_eq!(
            named("Apple's net income in the second quarter of 2023?"),
            [3, 4]
        );
        assert_eq!(named("NVIDIA cash flow in the Q3 2022 10-Q"), [0, 1]);
        assert_eq!(
            named("How did revenue change over time?"),
            Vec::<i64>::new()
        );
        let one = vec![(7, "travel policy".to_string())];
        assert!(named_documents("the travel policy on meals", &one).is_empty());
    }

    fn sorted(ids: HashSet<i64>) -> Vec<i64> {
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort();
        ids
    }

    #[test]
    fn documents_are_named_by_proper_names_running_through_them() {
        assert_eq!(
            proper_names("How have Apple's R&D costs changed in NVIDIA's Q3 10-Q?"),
            ["Apple's", "NVIDIA's", "Q3"]
        );
        assert!(proper_names("What is the travel policy?").is_empty());
        assert_eq!(
            proper_names("Did Apple's costs change in these 10-Qs? Why? Ask Tim! Please"),
            ["Apple's", "Tim"]
        );
        // Documents 1 and 2 are Apple's filings, 3 and 4 NVIDIA's; NVIDIA mentions Apple once.
        let coverage = |per_document: &[(i64, usize)]| DocumentCoverage {
            passages: [(1, 100), (2, 80), (3, 120), (4, 90)].into_iter().collect(),
            words: vec![("appl".to_string(), per_document.iter().copied().collect())],
        };
        let apple = coverage(&[(1, 30), (2, 25), (3, 1)]);
        assert_eq!(sorted(characterised_documents(&apple)), [1, 2]);
        // In every document: names nothing.
        let everywhere = coverage(&[(1, 30), (2, 25), (3, 40), (4, 20)]);
        assert!(characterised_documents(&everywhere).is_empty());
        // Mentioned in passing only: names nothing.
        let in_passing = coverage(&[(3, 2), (4, 1)]);
        assert!(characterised_documents(&in_passing).is_empty());
        // Title and content agree on one document; otherwise the title decides.
        let set = |ids: &[i64]| ids.iter().copied().collect::<HashSet<i64>>();
        assert_eq!(sorted(narrowest(set(&[2, 4]), set(&[1, 2]))), [2]);
        assert_eq!(sorted(narrowest(set(&[3]), set(&[1, 2]))), [3]);
        assert_eq!(sorted(narrowest(set(&[]), set(&[1, 2]))), [1, 2]);
    }

    #[test]
    fn the_latest_report_is_the_newest_dated_title() {
        assert!(asks_for_latest(
            "What was the gross margin in the latest 10-Q?"
        ));
        assert!(asks_for_latest(
            "In the most recent quarter, what were sales?"
        ));
        assert!(!asks_for_latest("What were recent changes in debt?"));
        assert_eq!(title_date("2023 Q3 AAPL"), Some((2023, 3)));
        assert_eq!(title_date("Annual report 2021"), Some((2021, 0)));
        assert_eq!(title_date("travel policy"), None);
        let titles: Vec<(i64, String)> = [
            (1, "2022 Q3 AAPL"),
            (2, "2023 Q3 NVDA"),
            (3, "2023 Q1 AAPL"),
            (4, "2023 Q2 AAPL"),
            (5, "travel policy"),
        ]
        .iter()
        .map(|(id, t)| (*id, t.to_string()))
        .collect();
        let apple: HashSet<i64> = [1, 3, 4].into_iter().collect();
        assert_eq!(sorted(latest_documents(apple, &titles)), [4]);
        assert_eq!(sorted(latest_documents(HashSet::new(), &titles)), [2]);
        let undated: HashSet<i64> = [5].into_iter().collect();
        assert_eq!(sorted(latest_documents(undated, &titles)), [5]);
    }

    #[test]
    fn highlights_terms_and_their_inflections() {
        let terms = query_terms("What were the total revenues of ACME?");
        assert_eq!(terms, vec!["acme", "revenues", "total"]);
        let text = "ACME's revenue grew; total Revenues rose.";
        let marked: Vec<String> = highlight(text, &terms)
            .iter()
            .map(|&(s, e)| text.chars().skip(s).take(e - s).collect())
            .collect();
        assert_eq!(marked, vec!["ACME", "revenue", "total", "Revenues"]);
    }
}
