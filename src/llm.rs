//! The local language model: GGUF files inspected without loading them (architecture,
//! quantization, context, memory estimate), and a loaded model (mistral.rs on CPU) that streams
//! tokens and stops at once when cancelled. Nothing here reaches the network: models are local
//! files and mistral.rs is only given local paths.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use candle_core::quantized::gguf_file::{self, Content, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// GGUF architectures mistral.rs 0.8 can run (SmolLM2 and Mistral GGUFs say `llama`).
pub const SUPPORTED_ARCHITECTURES: &[&str] = &[
    "llama",
    "mistral3",
    "phi2",
    "phi3",
    "qwen2",
    "qwen3",
    "qwen3moe",
    "starcoder2",
];

/// Context Folio asks for by default: RAG prompts are kept far shorter than this.
pub const DEFAULT_CONTEXT: usize = 4096;

/// What a GGUF file's header says about the model, read without loading the weights.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    /// File name without `.gguf`.
    pub name: String,
    pub architecture: String,
    pub quantization: String,
    pub file_bytes: u64,
    /// Bytes the weights take in memory once tensors without a SIMD kernel are re-quantized.
    pub weight_bytes: u64,
    /// Parameter count, from the tensor shapes.
    pub parameters: u64,
    /// Training context length from the metadata.
    pub context_length: usize,
    pub layers: usize,
    pub embedding_length: usize,
    pub head_count: usize,
    pub head_count_kv: usize,
    pub has_chat_template: bool,
}

/// The GGUF header of `path`: metadata and tensor directory.
fn read_gguf(path: &Path) -> Result<Content> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    Content::read(&mut BufReader::new(file)).map_err(|e| Error::NotAModel {
        path: path.to_path_buf(),
        reason: format!("not a readable GGUF file ({e})"),
    })
}

impl ModelInfo {
    /// Reads the GGUF header of `path`.
    pub fn inspect(path: &Path) -> Result<Self> {
        Self::from_header(path, &read_gguf(path)?)
    }

    /// The facts of `path` whose GGUF header is `content`.
    fn from_header(path: &Path, content: &Content) -> Result<Self> {
        let file_bytes = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len();
        let meta = &content.metadata;
        let architecture = meta
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .ok_or_else(|| Error::NotAModel {
                path: path.to_path_buf(),
                reason: "the GGUF header names no architecture".into(),
            })?;
        let number = |key: &str| -> usize {
            meta.get(&format!("{architecture}.{key}"))
                .and_then(value_as_u64)
                .unwrap_or(0) as usize
        };
        let head_count = number("attention.head_count");
        let head_count_kv = match number("attention.head_count_kv") {
            0 => head_count,
            n => n,
        };
        let parameters = content
            .tensor_infos
            .values()
            .map(|t| t.shape.elem_count() as u64)
            .sum();
        let weight_bytes = content
            .tensor_infos
            .values()
            .map(|t| {
                let dtype = if lacks_simd_kernel(t.ggml_dtype) {
                    GgmlDType::Q8_0
                } else {
                    t.ggml_dtype
                };
                (t.shape.elem_count() / dtype.block_size() * dtype.type_size()) as u64
            })
            .sum();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(ModelInfo {
            path: path.to_path_buf(),
            name,
            quantization: quantization_name(content),
            file_bytes,
            weight_bytes,
            parameters,
            context_length: number("context_length"),
            layers: number("block_count"),
            embedding_length: number("embedding_length"),
            head_count,
            head_count_kv,
            has_chat_template: meta.contains_key("tokenizer.chat_template"),
            architecture,
        })
    }

    pub fn is_supported(&self) -> bool {
        SUPPORTED_ARCHITECTURES.contains(&self.architecture.as_str())
    }

    /// Memory needed to answer with a context of `context` tokens.
    pub fn memory_estimate(&self, context: usize) -> MemoryEstimate {
        let head_dim = self
            .embedding_length
            .checked_div(self.head_count)
            .unwrap_or(0);
        // K and V per layer, per KV head, in f32 (candle's CPU activations).
        let kv_cache = 2 * self.layers * self.head_count_kv * head_dim * context * 4;
        // Activations, logits over the vocabulary, tokenizer and runtime: measured ≈ 0.25–0.35 GiB
        // above the weights for 0.1–0.5B models here; scaled up for larger ones.
        let runtime = (256 << 20) + self.weight_bytes / 8;
        MemoryEstimate {
            weights: self.weight_bytes,
            kv_cache: kv_cache as u64,
            runtime,
            total: self.weight_bytes + kv_cache as u64 + runtime,
        }
    }

    /// The context to run with: the default, bounded by what the model was trained for.
    pub fn usable_context(&self) -> usize {
        match self.context_length {
            0 => DEFAULT_CONTEXT,
            n => n.min(DEFAULT_CONTEXT),
        }
    }
}

fn value_as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::U8(v) => Some(u64::from(*v)),
        Value::U16(v) => Some(u64::from(*v)),
        Value::U32(v) => Some(u64::from(*v)),
        Value::U64(v) => Some(*v),
        Value::I32(v) => u64::try_from(*v).ok(),
        Value::I64(v) => u64::try_from(*v).ok(),
        _ => None,
    }
}

/// The llama.cpp file-type name (`Q4_K_M`…) when the header records it, else the most common
/// tensor type.
fn quantization_name(content: &Content) -> String {
    let by_file_type = content
        .metadata
        .get("general.file_type")
        .and_then(value_as_u64)
        .and_then(|t| {
            Some(match t {
                0 => "F32",
                1 => "F16",
                2 => "Q4_0",
                3 => "Q4_1",
                7 => "Q8_0",
                8 => "Q5_0",
                9 => "Q5_1",
                10 => "Q2_K",
                11 => "Q3_K_S",
                12 => "Q3_K_M",
                13 => "Q3_K_L",
                14 => "Q4_K_S",
                15 => "Q4_K_M",
                16 => "Q5_K_S",
                17 => "Q5_K_M",
                18 => "Q6_K",
                32 => "BF16",
                _ => return None,
            })
        });
    if let Some(name) = by_file_type {
        return name.to_string();
    }
    let mut counts: Vec<(String, u64)> = Vec::new();
    for info in content.tensor_infos.values() {
        let name = format!("{:?}", info.ggml_dtype);
        let elements = info.shape.elem_count() as u64;
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += elements,
            None => counts.push((name, elements)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(n, _)| n)
        .unwrap_or_else(|| "unknown".into())
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct MemoryEstimate {
    pub weights: u64,
    pub kv_cache: u64,
    pub runtime: u64,
    pub total: u64,
}

/// Whether a model fits in the memory the system has free now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    Fits,
    /// Fits, but leaves less than a quarter of free memory: other programs may swap.
    Tight,
    TooLarge,
    /// Free memory could not be read (not Linux).
    Unknown,
}

/// Compares an estimate with the memory available now (`MemAvailable`).
pub fn check_fit(estimate: &MemoryEstimate) -> (Fit, Option<u64>) {
    let available = crate::system::available_memory_bytes();
    let fit = match available {
        None => Fit::Unknown,
        Some(free) if estimate.total > free => Fit::TooLarge,
        Some(free) if estimate.total > free / 4 * 3 => Fit::Tight,
        Some(_) => Fit::Fits,
    };
    (fit, available)
}

/// A chat turn given to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
        }
    }
}

/// Sampling settings. The default is greedy decoding: the same question gives the same answer.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GenerationParams {
    pub max_tokens: usize,
    /// 0 = greedy.
    pub temperature: f64,
    pub seed: u64,
}

impl Default for GenerationParams {
    fn default() -> Self {
        GenerationParams {
            max_tokens: 384,
            temperature: 0.0,
            seed: 0,
        }
    }
}

/// How a generation went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Generation {
    pub text: String,
    pub cancelled: bool,
    /// The model was stopped because it kept writing the same text (`end_of_first_loop`);
    /// `text` keeps one copy. mistral.rs reports token counts only at the end of a sequence,
    /// so the prompt tokens are then unknown (0) and the completion tokens are counted here.
    pub stopped_repeating: bool,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    /// From sending the request to the first streamed text.
    pub time_to_first_token_ms: f64,
    pub prompt_tokens_per_second: f64,
    pub decode_tokens_per_second: f64,
    pub total_ms: f64,
}

/// Shortest stretch of text, in bytes, whose third copy in a row ends a generation: short
/// enough for "[1] [2] " loops, long enough that lists of figures are left alone.
const SHORTEST_LOOP: usize = 8;

/// When `text` ends with the same stretch three times in a row, the length that keeps the first
/// copy: small models decoding greedily sometimes fall into such a loop and stay in it until the
/// length limit.
pub fn end_of_first_loop(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    (SHORTEST_LOOP..=n / 3).find_map(|len| {
        let last = &bytes[n - len..];
        let repeated =
            last == &bytes[n - 2 * len..n - len] && last == &bytes[n - 3 * len..n - 2 * len];
        let keep = n - 2 * len;
        (repeated && text.is_char_boundary(keep)).then_some(keep)
    })
}

/// Tensor types for which candle has no SIMD dot product: matrix products over them run scalar
/// (measured 61 % of prefill time in the scalar Q5_0 kernel before the candle patch gave Q5_0
/// one; Qwen2.5-0.5B Q4_K_M stores most of its weights as Q5_0 because 896 is not a multiple
/// of 256).
fn lacks_simd_kernel(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_1)
}

/// Bump when the conversion changes, so old converted copies are not reused.
/// (v1 copies could be corrupt: concurrent writers shared one partial file; v2 also
/// re-quantized Q5_0.)
const CONVERSION_VERSION: u32 = 3;

/// The file to run: `path` itself, or a copy whose tensors without a SIMD kernel were
/// re-quantized to Q8_0 (which has one; 8 bits hold a 4–5-bit block's values almost exactly).
/// The copy is made once, in `.converted/` beside the models, keyed by size and mtime.
pub fn cpu_ready_model(path: &Path) -> Result<PathBuf> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let not_a_model = |e: candle_core::Error| Error::NotAModel {
        path: path.to_path_buf(),
        reason: format!("not a readable GGUF file ({e})"),
    };
    let content = Content::read(&mut reader).map_err(not_a_model)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(".converted");
    if !content
        .tensor_infos
        .values()
        .any(|t| lacks_simd_kernel(t.ggml_dtype))
    {
        remove_stale_copies(&dir, &stem, None);
        return Ok(path.to_path_buf());
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let target = dir.join(format!(
        "{stem}.{}-{mtime}.v{CONVERSION_VERSION}.gguf",
        meta.len()
    ));
    remove_stale_copies(&dir, &stem, Some(&target));
    if target.is_file() {
        return Ok(target);
    }
    if std::fs::create_dir_all(&dir).is_err() {
        // A read-only models folder: run the original, slower file.
        return Ok(path.to_path_buf());
    }
    // Tensors in file order, converted one at a time.
    let mut names: Vec<(&String, u64)> = content
        .tensor_infos
        .iter()
        .map(|(name, info)| (name, info.offset))
        .collect();
    names.sort_by_key(|(_, offset)| *offset);
    let mut tensors: Vec<(String, QTensor)> = Vec::with_capacity(names.len());
    for (name, _) in names {
        let tensor = content
            .tensor(&mut reader, name, &Device::Cpu)
            .map_err(not_a_model)?;
        let tensor = if lacks_simd_kernel(tensor.dtype()) {
            tensor
                .dequantize(&Device::Cpu)
                .and_then(|t| QTensor::quantize(&t, GgmlDType::Q8_0))
                .map_err(|e| Error::ModelLoad {
                    path: path.to_path_buf(),
                    reason: format!("re-quantizing {name}: {e}"),
                })?
        } else {
            tensor
        };
        tensors.push((name.clone(), tensor));
    }
    let metadata: Vec<(&str, &Value)> = content
        .metadata
        .iter()
        .filter(|(key, _)| key.as_str() != "general.alignment")
        .map(|(key, value)| (key.as_str(), value))
        .collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    // One partial file per writer: processes (or threads) converting the same model at once
    // each write their own, and the atomic rename lets any one of them win.
    static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let writer = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = target.with_extension(format!("{}-{writer}.partial", std::process::id()));
    let written = File::create(&partial)
        .map_err(|e| Error::io(&partial, e))
        .and_then(|f| {
            let mut out = std::io::BufWriter::new(f);
            gguf_file::write(&mut out, &metadata, &tensor_refs).map_err(|e| Error::ModelLoad {
                path: path.to_path_buf(),
                reason: format!("writing the converted copy: {e}"),
            })?;
            std::io::Write::flush(&mut out).map_err(|e| Error::io(&partial, e))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&partial, &target) {
        let _ = std::fs::remove_file(&partial);
        // Where a rename cannot replace a file in use, another writer's copy is as good.
        if !target.is_file() {
            return Err(Error::io(&target, e));
        }
    }
    Ok(target)
}

/// Deletes the converted copies of the model named `stem` other than `keep`: copies of an
/// earlier version of the file or made by an earlier conversion, each about the model's size.
/// Partial files of writers still at work are left alone.
fn remove_stale_copies(dir: &Path, stem: &str, keep: Option<&Path>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let copy_of_this_model = name
            .to_str()
            .and_then(|n| n.strip_prefix(stem))
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(is_copy_key);
        if copy_of_this_model && keep != Some(path.as_path()) {
            // A copy still open in another process stays readable to it until closed.
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Whether `name` is `SIZE-MTIME.vVERSION.gguf`, the part of a converted copy's file name after
/// its model's stem.
fn is_copy_key(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    name.strip_suffix(".gguf")
        .and_then(|key| key.split_once(".v"))
        .and_then(|(size_mtime, version)| Some((size_mtime.split_once('-')?, version)))
        .is_some_and(|((size, mtime), version)| digits(size) && digits(mtime) && digits(version))
}

/// Builds the mistral.rs engine for a local GGUF file on the CPU with f32 activations.
/// (mistral.rs's GGUF builder picks its activation type itself: BF16 whenever the CPU can do a
/// BF16 matmul, which makes every norm, rotary and attention step convert element by element —
/// measured 30 prompt tokens/s for Qwen2.5-0.5B. The lower-level loader takes an explicit type.)
async fn build_cpu_model(
    dir: &Path,
    file: &str,
    context: usize,
) -> anyhow::Result<mistralrs::Model> {
    use mistralrs::core::{
        AutoDeviceMapParams, DefaultSchedulerMethod, DeviceMapSetting, GGUFLoaderBuilder,
        GGUFSpecificConfig, MistralRsBuilder, ModelDType, SchedulerConfig, TokenSource,
    };
    let loader = GGUFLoaderBuilder::new(
        None,
        None,
        dir.to_string_lossy().into_owned(),
        vec![file.to_string()],
        GGUFSpecificConfig { topology: None },
        false,
        None,
    )
    .build();
    let pipeline = tokio::task::spawn_blocking(move || {
        loader.load_model_from_hf(
            None,
            TokenSource::None,
            &ModelDType::F32,
            &Device::Cpu,
            true,
            DeviceMapSetting::Auto(AutoDeviceMapParams::Text {
                max_seq_len: context,
                max_batch_size: 1,
            }),
            None,
            None,
        )
    })
    .await??;
    let scheduler = SchedulerConfig::DefaultScheduler {
        method: DefaultSchedulerMethod::Fixed(1.try_into()?),
    };
    let runner = MistralRsBuilder::new(pipeline, scheduler, false, None)
        // Keeps the KV entries of the last two sequences: a new prompt reuses their shared
        // prefix (the constant system prompt, a conversation's earlier turns). Each costs its
        // whole KV cache (≈ 25 MB for a 0.5B model at 1,024 tokens), hence so few.
        .with_prefix_cache_n(2)
        .build()
        .await;
    Ok(mistralrs::Model::new(runner))
}

/// A GGUF model loaded on the CPU, kept for many questions.
pub struct LanguageModel {
    info: ModelInfo,
    model: mistralrs::Model,
    load_time: Duration,
    /// Vocabulary entries that open with `[`, kept out of a reply's first token.
    marker_opening_tokens: Arc<[u32]>,
}

/// Ids of the vocabulary entries whose text opens with `[` (after the tokenizer's space mark):
/// the tokens a reply would start a citation marker with.
fn marker_opening_tokens(content: &Content) -> Vec<u32> {
    let Some(Value::Array(tokens)) = content.metadata.get("tokenizer.ggml.tokens") else {
        return Vec::new();
    };
    tokens
        .iter()
        .enumerate()
        .filter_map(|(id, token)| {
            let text = token.to_string().ok()?;
            // 'Ġ' is byte-level BPE's space, '▁' SentencePiece's.
            let text = text.trim_start_matches(['Ġ', '▁', ' ']);
            text.starts_with('[').then_some(u32::try_from(id).ok()?)
        })
        .collect()
}

/// Keeps a citation marker out of a reply's first token. Small models given numbered sources
/// otherwise often open with "[1]" and go on with more markers ("[1] [2] [") instead of words;
/// a marker belongs after a fact, never before the first one.
struct WordsBeforeMarkers {
    opening_tokens: Arc<[u32]>,
    /// Context length at the first sampled position (the prompt's length).
    first_position: OnceLock<usize>,
}

impl mistralrs::CustomLogitsProcessor for WordsBeforeMarkers {
    fn apply(&self, logits: &Tensor, context: &[u32]) -> candle_core::Result<Tensor> {
        if *self.first_position.get_or_init(|| context.len()) != context.len() {
            return Ok(logits.clone());
        }
        let mut values = logits.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        for &id in self.opening_tokens.iter() {
            if let Some(value) = values.get_mut(id as usize) {
                *value = f32::NEG_INFINITY;
            }
        }
        Tensor::from_vec(values, logits.dims(), logits.device())?.to_dtype(logits.dtype())
    }
}

impl LanguageModel {
    /// Loads `path` after checking that it is a GGUF of a supported architecture that fits in
    /// free memory for `context` tokens.
    pub async fn load(path: &Path) -> Result<Self> {
        let header = read_gguf(path)?;
        let info = ModelInfo::from_header(path, &header)?;
        if !info.is_supported() {
            return Err(Error::UnsupportedModel {
                path: path.to_path_buf(),
                architecture: info.architecture.clone(),
            });
        }
        let estimate = info.memory_estimate(info.usable_context());
        if let (Fit::TooLarge, Some(available)) = check_fit(&estimate) {
            return Err(Error::ModelTooLarge {
                path: path.to_path_buf(),
                needed: estimate.total,
                available,
            });
        }
        let started = Instant::now();
        let marker_opening_tokens = marker_opening_tokens(&header).into();
        drop(header); // its vocabulary (megabytes) is not needed while the weights load
        let runnable = cpu_ready_model(path)?;
        let path = runnable.as_path();
        let (dir, file) = match (path.parent(), path.file_name()) {
            (Some(dir), Some(file)) => (dir, file.to_string_lossy().into_owned()),
            _ => {
                return Err(Error::InvalidInput(format!(
                    "not a file: {}",
                    path.display()
                )))
            }
        };
        // A bare file name would be taken for a hub repository id; always give a directory.
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let model = build_cpu_model(dir, &file, info.usable_context())
            .await
            .map_err(|e| Error::ModelLoad {
                path: path.to_path_buf(),
                reason: format!("{e:#}"),
            })?;
        Ok(LanguageModel {
            info,
            model,
            load_time: started.elapsed(),
            marker_opening_tokens,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// Number of tokens `text` takes for this model.
    pub async fn count_tokens(&self, text: &str) -> Result<usize> {
        let tokens = self
            .model
            .tokenize(
                either::Either::Right(text.to_string()),
                None,
                false,
                false,
                None,
            )
            .await
            .map_err(|e| Error::Generation(e.to_string()))?;
        Ok(tokens.len())
    }

    /// Streams the reply to `messages` through `on_text`; returns early, marked cancelled, when
    /// `cancel` fires. Dropping the stream makes mistral.rs cancel the sequence at its next step.
    pub async fn generate(
        &self,
        messages: &[Message],
        params: &GenerationParams,
        cancel: &CancellationToken,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Generation> {
        let mut request = mistralrs::RequestBuilder::new().enable_thinking(false);
        // The deterministic sampler replaces all sampling settings (the length limit too), so
        // the limit is set after it.
        request = if params.temperature <= 0.0 {
            // mistral.rs turns the deterministic sampler's "no temperature" into temperature
            // 1.0: a softmax over the whole vocabulary and a weighted draw among the one token
            // left by top-k 1, every step (≈ 3.6 % of decoding time in a profile). An explicit
            // 0 makes its sampler take the argmax directly; the token is the same.
            request
                .set_deterministic_sampler()
                .set_sampler_temperature(0.0)
        } else {
            request.set_sampler_temperature(params.temperature)
        };
        request = request.set_sampler_max_len(params.max_tokens);
        if !self.marker_opening_tokens.is_empty() {
            request = request.add_logits_processor(Arc::new(WordsBeforeMarkers {
                opening_tokens: Arc::clone(&self.marker_opening_tokens),
                first_position: OnceLock::new(),
            }));
        }
        for message in messages {
            let role = match message.role {
                Role::System => mistralrs::TextMessageRole::System,
                Role::User => mistralrs::TextMessageRole::User,
                Role::Assistant => mistralrs::TextMessageRole::Assistant,
            };
            request = request.add_message(role, &message.content);
        }
        let started = Instant::now();
        let mut generation = Generation::default();
        // mistral.rs streams one token per chunk.
        let mut streamed_chunks = 0usize;
        let mut stream = tokio::select! {
            stream = self.model.stream_chat_request(request) => {
                stream.map_err(|e| Error::Generation(e.to_string()))?
            }
            () = cancel.cancelled() => {
                generation.cancelled = true;
                return Ok(generation);
            }
        };
        loop {
            let response = tokio::select! {
                response = stream.next() => response,
                () = cancel.cancelled() => {
                    generation.cancelled = true;
                    break;
                }
            };
            let Some(response) = response else { break };
            match response {
                mistralrs::Response::Chunk(chunk) => {
                    for choice in &chunk.choices {
                        if let Some(text) = choice.delta.content.as_deref() {
                            if !text.is_empty() {
                                if generation.text.is_empty() {
                                    generation.time_to_first_token_ms =
                                        started.elapsed().as_secs_f64() * 1000.0;
                                }
                                generation.text.push_str(text);
                                on_text(text);
                                streamed_chunks += 1;
                            }
                        }
                    }
                    if let Some(keep) = end_of_first_loop(&generation.text) {
                        generation.text.truncate(keep);
                        generation.stopped_repeating = true;
                        generation.completion_tokens = streamed_chunks;
                        let decoding_s = started.elapsed().as_secs_f64()
                            - generation.time_to_first_token_ms / 1000.0;
                        if decoding_s > 0.0 {
                            generation.decode_tokens_per_second =
                                streamed_chunks.saturating_sub(1) as f64 / decoding_s;
                        }
                        break;
                    }
                    if let Some(usage) = &chunk.usage {
                        generation.prompt_tokens = usage.prompt_tokens;
                        generation.completion_tokens = usage.completion_tokens;
                        generation.prompt_tokens_per_second =
                            f64::from(usage.avg_prompt_tok_per_sec);
                        generation.decode_tokens_per_second =
                            f64::from(usage.avg_compl_tok_per_sec);
                    }
                    if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
                        break;
                    }
                }
                mistralrs::Response::Done(done) => {
                    generation.prompt_tokens = done.usage.prompt_tokens;
                    generation.completion_tokens = done.usage.completion_tokens;
                    break;
                }
                mistralrs::Response::InternalError(e) | mistralrs::Response::ValidationError(e) => {
                    return Err(Error::Generation(e.to_string()));
                }
                mistralrs::Response::ModelError(message, _) => {
                    return Err(Error::Generation(message));
                }
                _ => {}
            }
        }
        drop(stream);
        generation.total_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1) for attention inputs (a linear congruential generator:
    /// the test needs spread, not quality).
    fn pseudo_random(count: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// The vendored mistral.rs answers a prompt through its matmul path and decodes through its
    /// flash kernel (FOLIO-PATCH.md §1, §5). Both must give causal grouped-query attention as
    /// computed in f64, at the magnitudes real models reach: Qwen2.5-1.5B's queries and keys carry
    /// channels of a few hundred, whose products exceed f16's range (its output was garbage while
    /// the prompt path multiplied in f16). Shapes of Qwen2.5-0.5B (14 query heads, 2 key-value
    /// heads, 64 wide) and Qwen2.5-1.5B (12, 2, 128).
    #[test]
    fn prompt_and_decoding_attention_match_an_f64_reference_beyond_f16_range(
    ) -> candle_core::Result<()> {
        use candle_core::Tensor;
        use mistralrs::core::layers::{Sdpa, SdpaParams};
        let len = 37;
        for (heads, kv_heads, width) in [(14, 2, 64), (12, 2, 128)] {
            let mut q = pseudo_random(heads * len * width, 1);
            let mut k = pseudo_random(kv_heads * len * width, 2);
            let v = pseudo_random(kv_heads * len * width, 3);
            // One large channel in every query and key, as Qwen2's biases make: 300 × 300 =
            // 90,000 per product, beyond f16's 65,504; values elsewhere up to ±30.
            for (row, values) in q.chunks_mut(width).chain(k.chunks_mut(width)).enumerate() {
                for x in values.iter_mut() {
                    *x *= 30.0;
                }
                values[0] = 300.0 + (row % 5) as f32;
            }
            let scale = 1.0 / (width as f32).sqrt();
            let group = heads / kv_heads;
            let at = |data: &[f32], head: usize, pos: usize, i: usize| {
                f64::from(data[(head * len + pos) * width + i])
            };
            // expected[head][pos] = softmax over keys 0..=pos, weights times values.
            let expected: Vec<Vec<Vec<f64>>> = (0..heads)
                .map(|h| {
                    (0..len)
                        .map(|pos| {
                            let scores: Vec<f64> = (0..=pos)
                                .map(|key| {
                                    (0..width)
                                        .map(|i| at(&q, h, pos, i) * at(&k, h / group, key, i))
                                        .sum::<f64>()
                                        * f64::from(scale)
                                })
                                .collect();
                            let top = scores.iter().copied().fold(f64::MIN, f64::max);
                            let weights: Vec<f64> =
                                scores.iter().map(|s| (s - top).exp()).collect();
                            let total: f64 = weights.iter().sum();
                            (0..width)
                                .map(|i| {
                                    weights
                                        .iter()
                                        .enumerate()
                                        .map(|(key, w)| w * at(&v, h / group, key, i))
                                        .sum::<f64>()
                                        / total
                                })
                                .collect()
                        })
                        .collect()
                })
                .collect();
            let params = SdpaParams {
                n_kv_groups: group,
                softcap: None,
                softmax_scale: scale,
                sliding_window: None,
                sinks: None,
            };
            let cpu = &Device::Cpu;
            let q_all = Tensor::from_vec(q, (1, heads, len, width), cpu)?;
            let k_all = Tensor::from_vec(k, (1, kv_heads, len, width), cpu)?;
            let v_all = Tensor::from_vec(v, (1, kv_heads, len, width), cpu)?;
            let causal: Vec<f32> = (0..len * len)
                .map(|n| {
                    if n % len > n / len {
                        f32::NEG_INFINITY
                    } else {
                        0.0
                    }
                })
                .collect();
            let mask = Tensor::from_vec(causal, (len, len), cpu)?;
            let prompt = Sdpa.run_attention(&q_all, &k_all, &v_all, Some(&mask), None, &params)?;
            assert_eq!(prompt.dims(), [1, heads, len, width]);
            let last = q_all.narrow(2, len - 1, 1)?.contiguous()?;
            let decoded = Sdpa.run_attention(&last, &k_all, &v_all, None, None, &params)?;
            assert_eq!(decoded.dims(), [1, heads, 1, width]);
            let (prompt, decoded) = (
                prompt.squeeze(0)?.to_vec3::<f32>()?,
                decoded.squeeze(0)?.to_vec3::<f32>()?,
            );
            let close = |got: f32, want: f64| (f64::from(got) - want).abs() < 1e-2;
            for (h, (want_head, got_head)) in expected.iter().zip(&prompt).enumerate() {
                for (pos, (want_row, got_row)) in want_head.iter().zip(got_head).enumerate() {
                    for (i, (&want, &got)) in want_row.iter().zip(got_row).enumerate() {
                        assert!(
                            close(got, want),
                            "prompt path, {heads}/{kv_heads} heads × {width}: head {h} position {pos} channel {i}: {got} instead of {want}"
                        );
                    }
                }
                let (want_row, got_row) = (&want_head[len - 1], &decoded[h][0]);
                for (i, (&want, &got)) in want_row.iter().zip(got_row).enumerate() {
                    assert!(
                        close(got, want),
                        "decoding kernel, {heads}/{kv_heads} heads × {width}: head {h} channel {i}: {got} instead of {want}"
                    );
                }
            }
        }
        Ok(())
    }

    /// The vendored candle multiplies a prompt's many rows by quantized weights after
    /// dequantizing the weights: in bf16 dot-product instructions where the CPU has them, else
    /// with the f32 GEMM; a decoded token's single row goes through integer dot products
    /// (vendor/candle-core/FOLIO-PATCH.md). Every output must equal the f64 product with the
    /// dequantized weights, for the block types Qwen2.5's GGUF files use (Q5_0 and Q8_0 where rows
    /// are 896 wide, K-quants elsewhere), within the rounding of the operands (in bf16, each
    /// product is off by at most 2⁻⁸ of its size).
    #[test]
    fn rows_times_quantized_weights_match_an_f64_reference() -> candle_core::Result<()> {
        use candle_core::quantized::QMatMul;
        use candle_core::{Device, Module, Tensor};
        // 43 rows take the prompt path (with a partial tile of rows); one row the decoding
        // path (activations rounded to 8 bits).
        for (dtype, k, n, rows) in [
            (GgmlDType::Q8_0, 896, 1003, 43),
            (GgmlDType::Q8_0, 896, 1003, 1),
            (GgmlDType::Q5_0, 896, 1003, 43),
            (GgmlDType::Q5_0, 896, 1003, 1),
            (GgmlDType::Q4K, 512, 1000, 43),
            (GgmlDType::Q6K, 2560, 200, 43),
        ] {
            let weights = Tensor::from_vec(pseudo_random(n * k, 4), (n, k), &Device::Cpu)?;
            let quantized = QTensor::quantize(&weights, dtype)?;
            let dequantized: Vec<f32> = quantized
                .dequantize(&Device::Cpu)?
                .flatten_all()?
                .to_vec1()?;
            // The dequantized weights themselves are checked against the originals, since the
            // products below are compared with them: each stays within an eighth of its
            // 32-weight block's largest magnitude (a misplaced bit is off by about all of it).
            let originals = pseudo_random(n * k, 4);
            for (block, (orig, deq)) in originals.chunks(32).zip(dequantized.chunks(32)).enumerate()
            {
                let largest = orig.iter().fold(0f32, |m, w| m.max(w.abs()));
                for (w, d) in orig.iter().zip(deq) {
                    assert!(
                        (w - d).abs() <= largest / 8.0,
                        "{dtype:?}: block {block}: weight {w} dequantized to {d}"
                    );
                }
            }
            let input = pseudo_random(rows * k, 5);
            let product = QMatMul::from_qtensor(quantized)?
                .forward(&Tensor::from_vec(input.clone(), (rows, k), &Device::Cpu)?)?
                .to_vec2::<f32>()?;
            for (r, got_row) in product.iter().enumerate() {
                for (c, &got) in got_row.iter().enumerate() {
                    let terms = (0..k)
                        .map(|i| f64::from(input[r * k + i]) * f64::from(dequantized[c * k + i]));
                    let want: f64 = terms.clone().sum();
                    let magnitude: f64 = terms.map(f64::abs).sum();
                    assert!(
                        (f64::from(got) - want).abs() <= magnitude / 200.0 + 1e-4,
                        "{dtype:?} {rows}×{k}·{k}×{n}: row {r} column {c}: {got} instead of {want}"
                    );
                }
            }
        }
        Ok(())
    }

    #[test]
    fn only_this_models_other_converted_copies_are_removed() -> std::io::Result<()> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path();
        let names = [
            "model.100-200.v2.gguf",        // an earlier conversion: removed
            "model.100-150.v3.gguf",        // an earlier file: removed
            "model.100-200.v3.gguf",        // the copy in use: kept
            "model.100-200.v3.7-0.partial", // a writer at work: kept
            "model.b.100-200.v2.gguf",      // another model, "model.b": kept
            "model-2.100-200.v2.gguf",      // another model, "model-2": kept
            "model.gguf.txt",               // not a copy: kept
        ];
        for name in names {
            std::fs::write(dir.join(name), b"")?;
        }
        remove_stale_copies(dir, "model", Some(&dir.join("model.100-200.v3.gguf")));
        let mut left: Vec<String> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<_>>()?;
        left.sort();
        let mut want: Vec<&str> = names[2..].to_vec();
        want.sort();
        assert_eq!(left, want);
        // A model that needs no copy any more loses all of its copies.
        remove_stale_copies(dir, "model", None);
        assert!(!dir.join("model.100-200.v3.gguf").exists());
        assert!(dir.join("model.b.100-200.v2.gguf").exists());
        Ok(())
    }

    #[test]
    fn a_stretch_written_three_times_in_a_row_ends_the_reply() {
        let looped = "Revenue rose [1]. Apple Inc. Form 10-Q [3] Apple Inc. Form 10-Q [3] Apple Inc. Form 10-Q [3] ";
        let keep = end_of_first_loop(looped).map(|n| &looped[..n]);
        assert_eq!(keep, Some("Revenue rose [1]. Apple Inc. Form 10-Q [3] "));
        let markers = "The rate was [1] [2] [1] [2] [1] [2] ";
        assert_eq!(
            end_of_first_loop(markers).map(|n| &markers[..n]),
            Some("The rate was [1] [2] ")
        );
        // Twice is not a loop, and neither are short repeats inside a sentence.
        assert_eq!(
            end_of_first_loop("Apple Inc. Form 10-Q [3] Apple Inc. Form 10-Q [3] "),
            None
        );
        assert_eq!(end_of_first_loop("Sales were $1, $1, $1."), None);
        assert_eq!(end_of_first_loop(""), None);
        // Multi-byte text is cut at a character boundary.
        let accented = "résumé été résumé été résumé été ";
        assert!(end_of_first_loop(accented).is_some_and(|n| accented.is_char_boundary(n)));
    }
}
