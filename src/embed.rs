//! Sentence embeddings on the CPU: all-MiniLM-L6-v2 through candle-transformers' BERT,
//! mean-pooled over real tokens and L2-normalised (as sentence-transformers does).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::error::{Error, Result};

/// Turns texts into unit-length vectors; similar meaning gives a high dot product.
pub trait Embedder: Send + Sync {
    /// A stable name of the model, stored with the vectors.
    fn model_id(&self) -> &str;
    fn dimension(&self) -> usize;
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}

/// Folder name of the default embedder inside the models folder.
pub const MINILM_DIR: &str = "all-MiniLM-L6-v2";
/// sentence-transformers truncates all-MiniLM-L6-v2 input at 256 word pieces.
const MAX_TOKENS: usize = 256;

pub struct MiniLmEmbedder {
    model: BertModel,
    batch_size: usize,
    /// One single-threaded pool per core. candle parallelises only its matrix products, so
    /// running one batch per core keeps both cores busy through the element-wise work (GELU,
    /// softmax, layer norm, copies) too.
    workers: Vec<rayon::ThreadPool>,
    tokenizer: Tokenizer,
    dimension: usize,
    device: Device,
}

impl MiniLmEmbedder {
    /// Loads `model.safetensors`, `config.json` and `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let file = |name: &str| -> Result<PathBuf> {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(Error::ModelMissing {
                    what: "embedding model file",
                    path,
                })
            }
        };
        let config_path = file("config.json")?;
        let config_text =
            std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| Error::Embedding(format!("{}: {e}", config_path.display())))?;
        let mut tokenizer = Tokenizer::from_file(file("tokenizer.json")?)
            .map_err(|e| Error::Embedding(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| Error::Embedding(format!("tokenizer truncation: {e}")))?;
        let weights_path = file("model.safetensors")?;
        let weights = std::fs::read(&weights_path).map_err(|e| Error::io(&weights_path, e))?;
        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load_buffer(&weights, &device)?
            .into_iter()
            .map(|(name, tensor)| Ok((name.clone(), with_transposed_storage(&name, tensor)?)))
            .collect::<Result<std::collections::HashMap<_, _>>>()?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(vb, &config)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = (0..cores)
            .map(|_| rayon::ThreadPoolBuilder::new().num_threads(1).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Embedding(format!("starting embedding workers: {e}")))?;
        Ok(MiniLmEmbedder {
            model,
            batch_size: BATCH_SIZE,
            workers,
            tokenizer,
            dimension: config.hidden_size,
            device,
        })
    }

    /// Texts per forward pass (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| Error::Embedding(format!("tokenizing: {e}")))?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for encoding in &encodings {
            ids.extend_from_slice(encoding.get_ids());
            mask.extend_from_slice(encoding.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (rows, width), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?; // (rows, width, dim)
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (rows, width, 1)
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (rows, dim)
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?; // (rows, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        let normalized = mean.broadcast_div(&norms)?;
        Ok(normalized.to_vec2::<f32>()?)
    }
}

/// A linear layer's weight (`[out, in]`) with the same values and shape but stored
/// column-major. candle's `Linear` multiplies by the weight's transpose, which then is a plain
/// row-major matrix that the GEMM kernel reads in place; a row-major weight had to be repacked
/// on every call (measured: the packing took more time than the arithmetic for a question).
fn with_transposed_storage(name: &str, tensor: Tensor) -> Result<Tensor> {
    let is_linear_weight =
        name.ends_with(".weight") && tensor.rank() == 2 && !name.contains("embeddings");
    if is_linear_weight {
        Ok(tensor.t()?.contiguous()?.t()?)
    } else {
        Ok(tensor)
    }
}

/// Texts per forward pass: large enough to keep the matrix kernels busy, small enough that
/// the attention buffers (batch × 12 heads × 256² floats) stay small (measured: 8 beats 32).
pub const BATCH_SIZE: usize = 8;

/// Vectors with the positions of their texts in the caller's slice.
type IndexedVectors = Vec<(usize, Vec<f32>)>;

impl Embedder for MiniLmEmbedder {
    fn model_id(&self) -> &str {
        "sentence-transformers/all-MiniLM-L6-v2"
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        // Batch texts of similar length together to cut padding, then restore the order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let batches: Vec<&[usize]> = order.chunks(self.batch_size).collect();
        let run = |batch: &[usize]| -> Result<IndexedVectors> {
            let batch_texts: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
            Ok(batch
                .iter()
                .copied()
                .zip(self.embed_batch(&batch_texts)?)
                .collect())
        };
        let results: Vec<Result<IndexedVectors>> = if batches.len() < 2 || self.workers.len() < 2 {
            // A single batch (a query): let the matrix products use every core instead.
            batches.iter().map(|batch| run(batch)).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = self
                    .workers
                    .iter()
                    .enumerate()
                    .map(|(w, pool)| {
                        let mine: Vec<&[usize]> = batches
                            .iter()
                            .skip(w)
                            .step_by(self.workers.len())
                            .copied()
                            .collect();
                        let run = &run;
                        scope.spawn(move || {
                            pool.install(|| mine.into_iter().map(run).collect::<Vec<_>>())
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| {
                        h.join().unwrap_or_else(|_| {
                            vec![Err(Error::Embedding("an embedding worker panicked".into()))]
                        })
                    })
                    .collect()
            })
        };
        let mut vectors = vec![Vec::new(); texts.len()];
        for result in results {
            for (i, vector) in result? {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }
}
