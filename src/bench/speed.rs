//! Single-stage speed measurements, each run on its own so that a driver (`bench/run.py`) can
//! alternate Folio with a reference tool on the same inputs: extraction alone, embedding alone,
//! and generation on a fixed prompt.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::Rate;
use crate::chunk::{chunk_page, ChunkSizes};
use crate::embed::{Embedder, MiniLmEmbedder, MINILM_DIR};
use crate::error::Result;
use crate::extract::{extract_pdf, ExtractLimits};
use crate::llm::{GenerationParams, LanguageModel, Message, Role};

/// Extraction alone: pages read and normalised, and the chunk texts they give.
#[derive(Debug, Clone, Serialize)]
pub struct ExtractionRun {
    pub files: usize,
    pub rate: Rate,
    /// Seconds each reader spent over all files (the fallback reads only the pages the first
    /// one got wrong).
    pub reader_seconds: std::collections::BTreeMap<&'static str, f64>,
    /// Chunk texts, in file and page order (what the embedder would be given).
    #[serde(skip)]
    pub chunk_texts: Vec<String>,
}

/// Reads, normalises and chunks `files` one at a time (both readers as needed), as ingestion
/// does, without touching a library.
pub async fn extraction(files: &[PathBuf]) -> ExtractionRun {
    let started = Instant::now();
    let mut pages = 0u64;
    let mut chunk_texts = Vec::new();
    let mut reader_seconds = std::collections::BTreeMap::new();
    for file in files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        if let Ok(extraction) =
            extract_pdf(std::sync::Arc::new(bytes), None, ExtractLimits::default()).await
        {
            pages += extraction.pages.len() as u64;
            for (reader, seconds) in &extraction.reader_seconds {
                *reader_seconds.entry(*reader).or_insert(0.0) += seconds;
            }
            for (i, text) in extraction.pages.iter().enumerate() {
                chunk_texts.extend(
                    chunk_page(text, i as u32 + 1, ChunkSizes::default())
                        .into_iter()
                        .map(|c| c.text),
                );
            }
        }
    }
    ExtractionRun {
        files: files.len(),
        rate: Rate::new(pages, started.elapsed().as_secs_f64()),
        reader_seconds,
        chunk_texts,
    }
}

/// Embeds `texts` with all-MiniLM-L6-v2 in the rounds ingestion uses (64 texts, split into
/// batches of `batch_size`); the model is loaded and warmed before the clock starts. Returns
/// the rate and the vectors, in the order of `texts`.
pub fn embedding(
    models: &Path,
    texts: &[String],
    batch_size: usize,
) -> Result<(Rate, Vec<Vec<f32>>)> {
    let embedder = MiniLmEmbedder::load(&models.join(MINILM_DIR))?.with_batch_size(batch_size);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    if let Some(first) = refs.first() {
        embedder.embed(&[first])?;
    }
    let mut vectors = Vec::with_capacity(refs.len());
    let started = Instant::now();
    for round in refs.chunks(64) {
        vectors.extend(embedder.embed(round)?);
    }
    let rate = Rate::new(refs.len() as u64, started.elapsed().as_secs_f64());
    Ok((rate, vectors))
}

/// One generation on the fixed prompt.
#[derive(Debug, Clone, Serialize)]
pub struct GenerationRun {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub time_to_first_token_ms: f64,
    pub total_ms: f64,
    /// Prompt tokens over the time to the first token (what a user waits for).
    pub prefill_tokens_per_second: f64,
    /// Tokens after the first over the time after the first.
    pub decode_tokens_per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct GenerationBench {
    pub model: String,
    pub load_ms: f64,
    pub threads: usize,
    pub runs: Vec<GenerationRun>,
}

/// Loads `model` and answers `prompt` (one user message, greedy, `max_tokens`) `repeats`
/// times after one warm-up run. Each run starts its message with its number, so the prefix
/// cache cannot skip the prompt (a reference must do the same).
pub async fn generation(
    model: &Path,
    prompt: &str,
    max_tokens: usize,
    repeats: usize,
) -> Result<GenerationBench> {
    let started = Instant::now();
    let llm = LanguageModel::load(model).await?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let params = GenerationParams {
        max_tokens,
        ..GenerationParams::default()
    };
    let cancel = CancellationToken::new();
    let mut runs = Vec::with_capacity(repeats);
    for i in 0..=repeats {
        let messages = [Message::new(Role::User, format!("(Run {i}.) {prompt}"))];
        let g = llm
            .generate(&messages, &params, &cancel, &mut |_| {})
            .await?;
        if i == 0 {
            continue; // warm-up
        }
        let ttft = g.time_to_first_token_ms.max(1e-6);
        let after_first = (g.total_ms - ttft).max(1e-6);
        runs.push(GenerationRun {
            prompt_tokens: g.prompt_tokens,
            completion_tokens: g.completion_tokens,
            time_to_first_token_ms: ttft,
            total_ms: g.total_ms,
            prefill_tokens_per_second: g.prompt_tokens as f64 / (ttft / 1000.0),
            decode_tokens_per_second: g.completion_tokens.saturating_sub(1) as f64
                / (after_first / 1000.0),
        });
    }
    Ok(GenerationBench {
        model: llm.info().name.clone(),
        load_ms,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        runs,
    })
}
