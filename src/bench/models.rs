//! `folio bench models`: every installed model answers the same questions over the same
//! library (and, when asked, Folio's routing between the default and the larger model); per
//! row: load time, time to first token, prefill and decode speed, peak memory,
//! answers citing a gold page, and abstentions.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{read_qa, QaRecord};
use crate::answer::{AnswerOptions, Citation};
use crate::error::{Error, Result};
use crate::figures::{contains_figure, key_figures};
use crate::library::Library;
use crate::llm::ModelInfo;
use crate::session::{Assistant, ModelChoice};
use crate::system::{peak_rss_bytes, reset_peak_rss};

/// The name that asks `run` for a row answered with routing instead of one model.
pub const ROUTED: &str = "routed";

/// What answers the questions of one row.
enum Answerer {
    Model(ModelInfo),
    /// Routing between the default model and the larger one (both loaded before timing).
    Routed {
        default: ModelInfo,
        large: ModelInfo,
    },
}

impl Answerer {
    fn name(&self) -> String {
        match self {
            Answerer::Model(info) => info.name.clone(),
            Answerer::Routed { default, large } => {
                format!("{ROUTED}: {} / {}", default.name, large.name)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ModelBenchOptions {
    pub models_dir: PathBuf,
    pub questions: PathBuf,
    /// Model names; empty = every supported installed model. `ROUTED` names the row where
    /// Folio routes each question between the default and the larger model, as `folio ask` does.
    pub models: Vec<String>,
    /// Only the first N questions.
    pub limit: Option<usize>,
    pub answer: AnswerOptions,
}

/// One question's outcome with one model.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionResult {
    pub id: String,
    /// The model that answered (with routing, the one the question was routed to).
    pub model: String,
    pub answerable: bool,
    pub abstained: bool,
    /// Why Folio abstained (retrieval found nothing close, the model said so, or its reply was
    /// withheld).
    pub abstain_reason: Option<String>,
    /// A cited page is gold (or holds a key figure of the expected answer); None without gold.
    pub cites_gold: Option<bool>,
    pub cited: Vec<(String, i64)>,
    /// Whether a source given to the model was evidence: when not, no citation could be gold.
    pub gold_in_sources: Option<bool>,
    /// The (file, page) of each source in the prompt, in order.
    pub sources: Vec<(String, i64)>,
    pub time_to_first_token_ms: f64,
    pub prompt_tokens: usize,
    /// The model's reply, also when Folio withheld it.
    pub answer: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    pub model: String,
    pub parameters: u64,
    pub quantization: String,
    pub load_ms: f64,
    pub questions: usize,
    pub ttft_median_ms: f64,
    pub prompt_tokens_per_second_median: f64,
    pub decode_tokens_per_second_median: f64,
    pub prompt_tokens_mean: f64,
    pub peak_rss_bytes: Option<u64>,
    /// Answerable questions with gold whose answer cites a gold page.
    pub cites_gold: usize,
    /// Answerable questions with gold where a source in the prompt was evidence.
    pub gold_in_sources: usize,
    pub with_gold: usize,
    pub abstained_unanswerable: usize,
    pub unanswerable: usize,
    pub abstained_answerable: usize,
    pub answerable: usize,
    pub results: Vec<QuestionResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelBenchReport {
    pub threads: usize,
    pub rows: Vec<ModelRow>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite() && *v > 0.0);
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn file_name(file: &str) -> String {
    Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

/// Whether one of `passages` (an answer's citations or sources) is evidence for the question
/// (see `is_evidence`); None without gold.
pub(crate) async fn evidence_among(
    library: &Library,
    record: &QaRecord,
    passages: &[Citation],
) -> Result<Option<bool>> {
    let figures = record
        .answer
        .as_deref()
        .map(key_figures)
        .unwrap_or_default();
    if record.evidence.is_empty() && figures.is_empty() {
        return Ok(None);
    }
    for citation in passages {
        if is_evidence(
            library,
            record,
            &figures,
            &citation.file,
            citation.document_id,
            citation.page,
        )
        .await?
        {
            return Ok(Some(true));
        }
    }
    Ok(Some(false))
}

/// Whether a retrieved or cited page counts as evidence for `record`: a gold page, or a page
/// of a gold document (any document when none is listed) holding one of the expected answer's
/// key figures — the eval set lists the pages where a figure was verified, and asks to accept
/// others that repeat it.
pub(crate) async fn is_evidence(
    library: &Library,
    record: &QaRecord,
    figures: &[String],
    file: &str,
    document_id: i64,
    page: i64,
) -> Result<bool> {
    let name = file_name(file);
    if record
        .evidence
        .iter()
        .any(|e| e.doc == name && e.page == page)
    {
        return Ok(true);
    }
    let gold_document = record.evidence.is_empty() || record.evidence.iter().any(|e| e.doc == name);
    if figures.is_empty() || !gold_document {
        return Ok(false);
    }
    Ok(library
        .catalog()
        .page_text(document_id, page)
        .await?
        .is_some_and(|text| figures.iter().any(|f| contains_figure(&text, f))))
}

async fn bench_model(
    library: &Library,
    answerer: &Answerer,
    records: &[QaRecord],
    options: &ModelBenchOptions,
    on_progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<ModelRow> {
    // A fresh session per row: the previous model's memory is released before this one loads.
    let assistant = Assistant::new(options.models_dir.clone());
    reset_peak_rss();
    let started = Instant::now();
    let (info, choice) = match answerer {
        Answerer::Model(info) => (
            info,
            ModelChoice::Named(info.path.to_string_lossy().into_owned()),
        ),
        Answerer::Routed { default, large } => {
            assistant.model(&large.path).await?;
            (default, ModelChoice::Auto)
        }
    };
    assistant.model(&info.path).await?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let name = answerer.name();
    let cancel = CancellationToken::new();
    let mut results = Vec::new();
    let (mut ttft, mut prefill, mut decode) = (vec![], vec![], vec![]);
    // Prompt sizes that mistral.rs reported (not those of replies stopped in a loop).
    let mut prompt_sizes = Vec::new();
    for (i, record) in records.iter().enumerate() {
        on_progress(&name, i, records.len());
        let answer = assistant
            .ask(
                library,
                &record.question,
                &options.answer,
                &choice,
                &cancel,
                &mut |_| {},
            )
            .await?;
        if !answer.abstained {
            ttft.push(answer.timings.time_to_first_token_ms);
            prefill.push(answer.timings.prompt_tokens_per_second);
            decode.push(answer.timings.decode_tokens_per_second);
            if answer.prompt_tokens > 0 {
                prompt_sizes.push(answer.prompt_tokens);
            }
        }
        let (gold, gold_in_sources) = if record.answerable {
            (
                evidence_among(library, record, &answer.citations).await?,
                evidence_among(library, record, &answer.sources).await?,
            )
        } else {
            (None, None)
        };
        let pages = |passages: &[Citation]| -> Vec<(String, i64)> {
            passages
                .iter()
                .map(|c| (file_name(&c.file), c.page))
                .collect()
        };
        results.push(QuestionResult {
            id: record.id.clone(),
            model: answer.model.clone(),
            answerable: record.answerable,
            abstained: answer.abstained,
            abstain_reason: answer.abstain_reason,
            cites_gold: gold,
            cited: pages(&answer.citations),
            gold_in_sources,
            sources: pages(&answer.sources),
            time_to_first_token_ms: answer.timings.time_to_first_token_ms,
            prompt_tokens: answer.prompt_tokens,
            answer: answer.withheld.unwrap_or(answer.text),
        });
    }
    on_progress(&name, records.len(), records.len());
    let count = |f: &dyn Fn(&QuestionResult) -> bool| results.iter().filter(|r| f(r)).count();
    Ok(ModelRow {
        model: name,
        parameters: info.parameters,
        quantization: info.quantization.clone(),
        load_ms,
        questions: results.len(),
        ttft_median_ms: median(ttft),
        prompt_tokens_per_second_median: median(prefill),
        decode_tokens_per_second_median: median(decode),
        prompt_tokens_mean: prompt_sizes.iter().sum::<usize>() as f64
            / prompt_sizes.len().max(1) as f64,
        peak_rss_bytes: peak_rss_bytes(),
        cites_gold: count(&|r| r.cites_gold == Some(true)),
        gold_in_sources: count(&|r| r.gold_in_sources == Some(true)),
        with_gold: count(&|r| r.cites_gold.is_some()),
        abstained_unanswerable: count(&|r| !r.answerable && r.abstained),
        unanswerable: count(&|r| !r.answerable),
        abstained_answerable: count(&|r| r.answerable && r.abstained),
        answerable: count(&|r| r.answerable),
        results,
    })
}

/// Runs the question set through each model.
pub async fn run(
    library: &Library,
    options: &ModelBenchOptions,
    on_progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<ModelBenchReport> {
    let mut records = read_qa(&options.questions)?;
    if let Some(limit) = options.limit {
        records.truncate(limit);
    }
    let store = crate::models::ModelStore::new(options.models_dir.clone());
    let answerers: Vec<Answerer> = if options.models.is_empty() {
        store
            .list()
            .into_iter()
            .filter(|m| m.supported)
            .map(|m| Answerer::Model(m.info))
            .collect()
    } else {
        options
            .models
            .iter()
            .map(|name| {
                if name != ROUTED {
                    return Ok(Answerer::Model(store.resolve(Some(name))?));
                }
                let large = store.large().ok_or_else(|| {
                    Error::InvalidInput(
                        "routing needs a larger model installed (scripts/fetch-models large)"
                            .into(),
                    )
                })?;
                Ok(Answerer::Routed {
                    default: store.resolve(None)?,
                    large,
                })
            })
            .collect::<Result<_>>()?
    };
    let mut rows = Vec::new();
    for answerer in &answerers {
        rows.push(bench_model(library, answerer, &records, options, on_progress).await?);
    }
    Ok(ModelBenchReport {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rows,
    })
}

fn share(n: usize, of: usize) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{n}/{of} ({:.0}%)", 100.0 * n as f64 / of as f64)
    }
}

impl ModelBenchReport {
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "{:<40} {:>8} {:>9} {:>11} {:>11} {:>8} {:>9} {:>15} {:>15} {:>15} {:>15}\n",
            "MODEL",
            "LOAD s",
            "TTFT ms",
            "PREFILL t/s",
            "DECODE t/s",
            "PROMPT",
            "PEAK RSS",
            "GOLD IN PROMPT",
            "CITES GOLD",
            "ABSTAIN (unans)",
            "ABSTAIN (ans)"
        );
        for r in &self.rows {
            out.push_str(&format!(
                "{:<40} {:>8.1} {:>9.0} {:>11.1} {:>11.1} {:>8.0} {:>9} {:>15} {:>15} {:>15} {:>15}\n",
                r.model,
                r.load_ms / 1000.0,
                r.ttft_median_ms,
                r.prompt_tokens_per_second_median,
                r.decode_tokens_per_second_median,
                r.prompt_tokens_mean,
                r.peak_rss_bytes
                    .map(|b| format!("{} MiB", b >> 20))
                    .unwrap_or_else(|| "?".into()),
                share(r.gold_in_sources, r.with_gold),
                share(r.cites_gold, r.with_gold),
                share(r.abstained_unanswerable, r.unanswerable),
                share(r.abstained_answerable, r.answerable),
            ));
        }
        out.push_str(&format!(
            "medians over answered questions; {} threads; PROMPT = mean prompt tokens\n",
            self.threads
        ));
        out
    }
}
