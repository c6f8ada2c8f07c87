//! Sentence embeddings on the CPU: all-MiniLM-L6-v2 through Folio's BERT encoder on candle
//! (`bert`), mean-pooled over real tokens and L2-normalised (as sentence-transformers does).

use std::path::{Path, PathBuf};

use candle_core::Device;
use candle_transformers::models::bert::Config;
use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{l2_normalized, BertEncoder};
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
    model: BertEncoder,
    batch_size: usize,
    /// One single-threaded pool per core. candle parallelises only its matrix products, so
    /// running one batch per core keeps both cores busy through the element-wise work (GELU,
    /// softmax, layer norm, copies) too.
    workers: Vec<rayon::ThreadPool>,
    tokenizer: Tokenizer,
    dimension: usize,
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
        // The encoder packs texts without padding.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| Error::Embedding(format!("tokenizer truncation: {e}")))?;
        let weights_path = file("model.safetensors")?;
        let device = Device::Cpu;
        // The file's bytes (90 MB) are dropped before the encoder lays the weights out again,
        // so loading never holds three copies at once.
        let tensors = {
            let weights = std::fs::read(&weights_path).map_err(|e| Error::io(&weights_path, e))?;
            candle_core::safetensors::load_buffer(&weights, &device)?
        };
        let model = BertEncoder::new(tensors, &config)?;
        let dimension = model.hidden_size();
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
            dimension,
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
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let pooled = self.model.mean_pooled(&ids)?;
        Ok(l2_normalized(&pooled)?.to_vec2::<f32>()?)
    }
}

/// Texts per forward pass: 4 passages are ~1,000 packed tokens, rows enough to keep the matrix
/// kernels busy (256 passages: 4 and 8 within noise on one and two threads, 2 slower on two),
/// and half the activation memory of 8 (median RSS while adding 32 PDFs: 359 → 316 MiB).
pub const BATCH_SIZE: usize = 4;

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
        // Texts of similar length go together (the encoder packs without padding, so this only
        // evens out the batches' cost across workers), then the order is restored.
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
            // A single batch, on the caller's thread: a batch of passages lets candle's GEMM use
            // every core; a question's few rows take one core (the panel kernel), leaving the
            // other to the keyword search that runs beside it.
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
