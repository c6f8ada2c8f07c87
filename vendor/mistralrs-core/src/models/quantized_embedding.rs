//! Folio patch: a token-embedding table that stays quantized in memory.
//!
//! Upstream dequantizes the whole `token_embd.weight` table to f32 at load time: for
//! Qwen2.5-0.5B that is 151,936 × 896 × 4 bytes = 545 MB, while a forward pass only ever reads
//! the rows of the tokens it sees. Here the quantized table is kept (and shared with the output
//! head when the model ties them), and only the looked-up rows are dequantized.

use std::borrow::Cow;
use std::sync::Arc;

use candle_core::quantized::{QStorage, QTensor};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::Embedding;

pub enum TokenEmbedding {
    /// Rows copied out of the quantized table and dequantized per forward pass (CPU).
    Quantized {
        table: Arc<QTensor>,
        hidden_size: usize,
        row_bytes: usize,
    },
    /// Upstream behaviour: the whole table dequantized once (non-CPU devices, odd shapes).
    Dense(Embedding),
}

impl TokenEmbedding {
    pub fn new(table: Arc<QTensor>, hidden_size: usize) -> Result<Self> {
        let dtype = table.dtype();
        let (block_size, type_size) = (dtype.block_size(), dtype.type_size());
        let rows_fit_blocks = hidden_size % block_size == 0;
        if matches!(table.device(), Device::Cpu) && rows_fit_blocks {
            let row_bytes = hidden_size / block_size * type_size;
            return Ok(Self::Quantized {
                table,
                hidden_size,
                row_bytes,
            });
        }
        let dense = table.dequantize(&table.device())?;
        Ok(Self::Dense(Embedding::new(dense, hidden_size)))
    }

    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (table, hidden_size, row_bytes) = match self {
            Self::Dense(embedding) => return embedding.forward(ids),
            Self::Quantized {
                table,
                hidden_size,
                row_bytes,
            } => (table, *hidden_size, *row_bytes),
        };
        let mut out_dims = ids.dims().to_vec();
        out_dims.push(hidden_size);
        let ids = ids.flatten_all()?.to_dtype(DType::U32)?.to_vec1::<u32>()?;
        let data = table.data()?;
        // Block structs hold f16/f32 fields: gather into u64 words so the byte view is aligned.
        let byte_len = ids.len() * row_bytes;
        let mut words = vec![0u64; byte_len.div_ceil(8)];
        // SAFETY: `words` owns at least `byte_len` initialised bytes; u8 has no alignment needs.
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), byte_len) };
        for (slot, &id) in bytes.chunks_exact_mut(row_bytes).zip(&ids) {
            let start = id as usize * row_bytes;
            let row = data.get(start..start + row_bytes).ok_or_else(|| {
                candle_core::Error::Msg(format!("token id {id} is outside the embedding table"))
            })?;
            slot.copy_from_slice(row);
        }
        let rows = QStorage::from_data(Cow::Borrowed(&*bytes), &Device::Cpu, table.dtype())?;
        let rows = QTensor::new(rows, (ids.len(), hidden_size))?;
        rows.dequantize(&Device::Cpu)?.reshape(out_dims)
    }
}
