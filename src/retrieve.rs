//! Retrieval: BM25 and vector candidates fused by reciprocal-rank fusion, resolved to cited
//! passages (document, page, char span) through the catalog.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde::Serialize;

use crate::catalog::ChunkRecord;
use crate::error::Result;
use crate::library::Library;

/// Reciprocal-rank fusion constant (Cormack et al.): the smaller, the more the top ranks of
/// each list weigh. The usual 60 flattened the lists too much on the docugami-dev set (page
/// recall@5 0.53 at 60, 0.57 at 20, with one passage per page).
pub const RRF_K: f32 = 20.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    #[default]
    Hybrid,
    Keyword,
    Vector,
}

#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    pub mode: SearchMode,
    pub k: usize,
    /// Restrict to one document id.
    pub scope: Option<i64>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            mode: SearchMode::Hybrid,
            k: 5,
            scope: None,
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
        let counts = self.counts().await?;
        timings.catalog_ms = elapsed_ms(started);
        let mut warnings = Vec::new();
        let mut mode = options.mode;
        if counts.embedded_chunks == 0 && mode == SearchMode::Hybrid {
            mode = SearchMode::Keyword;
            if counts.keyword_chunks > 0 {
                warnings.push("no vectors computed yet: keyword results only".to_string());
            }
        }
        if counts.pending_chunks > 0 && mode != SearchMode::Keyword {
            warnings.push(format!(
                "{} of {} passages are not embedded yet; they are found by keyword only",
                counts.pending_chunks, counts.keyword_chunks
            ));
        }
        let candidates = (options.k * 5).max(50);
        let stage = Instant::now();
        let keyword_hits = if mode != SearchMode::Vector {
            self.keyword.search(query, candidates, options.scope)?
        } else {
            Vec::new()
        };
        timings.keyword_ms = elapsed_ms(stage);
        let vector_hits = if mode != SearchMode::Keyword && !query.trim().is_empty() {
            let stage = Instant::now();
            let embedder = self.embedder()?;
            let text = query.to_string();
            let vector =
                tokio::task::spawn_blocking(move || embedder.embed(&[text.as_str()])).await??;
            timings.query_embedding_ms = elapsed_ms(stage);
            let stage = Instant::now();
            let hits = match vector.first() {
                Some(v) => self.vectors.search(v, candidates, options.scope).await?,
                None => Vec::new(),
            };
            timings.vector_ms = elapsed_ms(stage);
            hits
        } else {
            Vec::new()
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
            chunks_without_vectors: counts.pending_chunks,
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

/// Lower-cased content words of a query, for highlighting.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 2 && !STOPWORDS.contains(&w.as_str()))
        .collect();
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
