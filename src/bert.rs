//! The BERT encoder of the embedder (all-MiniLM-L6-v2), run over packed tokens: the texts of a
//! batch are laid end to end without padding, so the dense layers (nearly all the arithmetic)
//! multiply only real tokens, and attention runs per text over its own tokens, needing no mask.
//! The same weights and operations as candle-transformers' `BertModel`, with fewer passes over
//! memory: one matrix product for query, key and value, the attention scale folded into the
//! query weights, a fused softmax, and each product's bias, GELU, residual and layer norm done
//! in one in-place pass over its output (`folio-kernels`).

use std::collections::HashMap;

use candle_core::{
    CpuStorage, CustomOp1, DType, Device, IndexOp, InplaceOp1, InplaceOp2, Layout, Shape, Tensor, D,
};
use candle_transformers::models::bert::{Config, HiddenAct};
use folio_kernels::{NormParams, Panels};

use crate::error::{Error, Result};

/// A layer norm's scale and shift, applied by the fused residual kernel.
struct LayerNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

/// `x · weight + bias` with the weight stored `[in, out]` row-major, the layout the GEMM
/// kernel reads in place. The bias is added in place by the step that follows the product.
/// The weights are kept twice (7 MB a layer for MiniLM): as a tensor for candle's GEMM, and
/// as panels for Folio's kernel.
struct Dense {
    weight: Tensor,
    panels: Panels,
    bias: Vec<f32>,
}

impl Dense {
    fn new(weight: Tensor, bias: Tensor) -> Result<Dense> {
        let weight = transposed(weight)?;
        let (inner, cols) = weight.dims2()?;
        let panels =
            Panels::new(&weight.flatten_all()?.to_vec1()?, inner, cols).ok_or_else(|| {
                Error::Embedding("a dense layer's weights do not fill its shape".into())
            })?;
        Ok(Dense {
            weight,
            panels,
            bias: bias.to_vec1()?,
        })
    }

    /// `x · weight`, bias not yet added: the panel kernel for a question's few rows, candle's
    /// GEMM for a batch of passages (measured on one thread: questions 43–49 → 68–71 per
    /// second with panels; passage batches 13.0–14.2 with the GEMM, 12.8 with panels).
    fn product(&self, x: &Tensor) -> Result<Tensor> {
        if x.dim(0)? <= PANEL_PRODUCT_MAX_ROWS {
            Ok(x.apply_op1_no_bwd(&PanelProduct(&self.panels))?)
        } else {
            Ok(x.matmul(&self.weight)?)
        }
    }
}

struct Layer {
    /// Query, key and value in one product: `[hidden, 3 × hidden]`.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    up: Dense,
    down: Dense,
    output_norm: LayerNorm,
}

pub struct BertEncoder {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    /// Row 0 of the token-type table: every token is of type 0 for sentence embeddings.
    token_type: Vec<f32>,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_size: usize,
    hidden: usize,
    device: Device,
}

impl BertEncoder {
    /// Builds the encoder from the tensors of a BERT `model.safetensors`.
    pub fn new(mut tensors: HashMap<String, Tensor>, config: &Config) -> Result<Self> {
        if !matches!(config.hidden_act, HiddenAct::Gelu) {
            return Err(Error::Embedding(
                "only BERT models with the exact GELU activation are supported".into(),
            ));
        }
        let hidden = config.hidden_size;
        let heads = config.num_attention_heads;
        if heads == 0 || !hidden.is_multiple_of(heads) {
            return Err(Error::Embedding(format!(
                "hidden size {hidden} does not split into {heads} attention heads"
            )));
        }
        let head_size = hidden / heads;
        let device = Device::Cpu;
        let eps = config.layer_norm_eps as f32;
        let tensors = &mut tensors;
        let embeddings_norm = layer_norm(tensors, "embeddings", eps)?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let mut dense = |name: &str| -> Result<(Tensor, Tensor)> {
                Ok((
                    take(tensors, &format!("{p}.{name}.weight"))?,
                    take(tensors, &format!("{p}.{name}.bias"))?,
                ))
            };
            // Scores are q·k / √d: scaling the query weights and bias once does the division.
            let scale = 1.0 / (head_size as f64).sqrt();
            let (wq, bq) = dense("attention.self.query")?;
            let (wk, bk) = dense("attention.self.key")?;
            let (wv, bv) = dense("attention.self.value")?;
            let qkv = Dense::new(
                Tensor::cat(&[(wq * scale)?, wk, wv], 0)?,
                Tensor::cat(&[(bq * scale)?, bk, bv], 0)?,
            )?;
            let (w, b) = dense("attention.output.dense")?;
            let attention_out = Dense::new(w, b)?;
            let (w, b) = dense("intermediate.dense")?;
            let up = Dense::new(w, b)?;
            let (w, b) = dense("output.dense")?;
            let down = Dense::new(w, b)?;
            layers.push(Layer {
                qkv,
                attention_out,
                attention_norm: layer_norm(tensors, &format!("{p}.attention.output"), eps)?,
                up,
                down,
                output_norm: layer_norm(tensors, &format!("{p}.output"), eps)?,
            });
        }
        Ok(BertEncoder {
            word_embeddings: take(tensors, "embeddings.word_embeddings.weight")?,
            position_embeddings: take(tensors, "embeddings.position_embeddings.weight")?,
            token_type: take(tensors, "embeddings.token_type_embeddings.weight")?
                .i(0)?
                .to_vec1()?,
            embeddings_norm,
            layers,
            heads,
            head_size,
            hidden,
            device,
        })
    }

    pub fn hidden_size(&self) -> usize {
        self.hidden
    }

    /// The mean of the last hidden states over each text's tokens (`[texts, hidden]`).
    pub fn mean_pooled(&self, texts: &[&[u32]]) -> Result<Tensor> {
        let max_positions = self.position_embeddings.dim(0)?;
        if let Some(long) = texts
            .iter()
            .find(|t| t.len() > max_positions || t.is_empty())
        {
            return Err(Error::Embedding(format!(
                "a text of {} tokens is outside 1..={max_positions}",
                long.len()
            )));
        }
        let ids: Vec<u32> = texts.iter().flat_map(|t| t.iter().copied()).collect();
        let positions: Vec<u32> = texts.iter().flat_map(|t| 0..t.len() as u32).collect();
        let total = ids.len();
        let ids = Tensor::from_vec(ids, total, &self.device)?;
        let positions = Tensor::from_vec(positions, total, &self.device)?;
        let mut x = self.word_embeddings.index_select(&ids, 0)?;
        let embedded = ResidualNorm {
            bias: &self.token_type,
            norm: &self.embeddings_norm,
        };
        x.inplace_op2(
            &self.position_embeddings.index_select(&positions, 0)?,
            &embedded,
        )?;
        for layer in &self.layers {
            x = self.layer_forward(layer, &x, texts)?;
        }
        let mut start = 0;
        let mut pooled = Vec::with_capacity(texts.len());
        for text in texts {
            pooled.push(x.narrow(0, start, text.len())?.mean_keepdim(0)?);
            start += text.len();
        }
        Ok(Tensor::cat(&pooled, 0)?)
    }

    fn layer_forward(&self, layer: &Layer, x: &Tensor, texts: &[&[u32]]) -> Result<Tensor> {
        let qkv = layer.qkv.product(x)?; // [tokens, 3 × hidden]
        qkv.inplace_op1(&WithBias {
            name: "add-bias",
            kernel: folio_kernels::add_bias,
            bias: &layer.qkv.bias,
        })?;
        let mut contexts = Vec::with_capacity(texts.len());
        let mut start = 0;
        for text in texts {
            let len = text.len();
            // [len, 3, heads, head] → [3, heads, len, head]
            let qkv = qkv
                .narrow(0, start, len)?
                .reshape((len, 3, self.heads, self.head_size))?
                .permute((1, 2, 0, 3))?
                .contiguous()?;
            let (q, k, v) = (qkv.i(0)?, qkv.i(1)?, qkv.i(2)?);
            let scores = q.matmul(&k.t()?)?; // [heads, len, len]
            let probabilities = candle_nn::ops::softmax_last_dim(&scores)?;
            let context = probabilities.matmul(&v)?; // [heads, len, head]
            contexts.push(
                context
                    .transpose(0, 1)?
                    .contiguous()?
                    .reshape((len, self.hidden))?,
            );
            start += len;
        }
        let attended = layer.attention_out.product(&Tensor::cat(&contexts, 0)?)?;
        attended.inplace_op2(
            x,
            &ResidualNorm {
                bias: &layer.attention_out.bias,
                norm: &layer.attention_norm,
            },
        )?;
        let up = layer.up.product(&attended)?;
        up.inplace_op1(&WithBias {
            name: "add-bias-gelu",
            kernel: folio_kernels::add_bias_gelu,
            bias: &layer.up.bias,
        })?;
        let output = layer.down.product(&up)?;
        output.inplace_op2(
            &attended,
            &ResidualNorm {
                bias: &layer.down.bias,
                norm: &layer.output_norm,
            },
        )?;
        Ok(output)
    }
}

/// Products of at most this many rows (tokens) use the panel kernel.
const PANEL_PRODUCT_MAX_ROWS: usize = 64;

/// `x · w` by Folio's panel kernel.
struct PanelProduct<'a>(&'a Panels);

impl CustomOp1 for PanelProduct<'_> {
    fn name(&self) -> &'static str {
        "panel-product"
    }

    fn cpu_fwd(&self, x: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (inner, cols) = (self.0.inner(), self.0.cols());
        let x = rows(x, layout, inner, self.name())?;
        let count = x.len() / inner;
        let mut out = vec![0.0; count * cols];
        self.0.matmul(x, &mut out);
        Ok((CpuStorage::F32(out), Shape::from((count, cols))))
    }
}

/// A per-row kernel with a bias (`x + bias`, `gelu(x + bias)`), in place on a product's output.
struct WithBias<'a> {
    name: &'static str,
    kernel: fn(&mut [f32], &[f32]),
    bias: &'a [f32],
}

impl InplaceOp1 for WithBias<'_> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        (self.kernel)(
            rows_mut(storage, layout, self.bias.len(), self.name)?,
            self.bias,
        );
        Ok(())
    }
}

/// `layer_norm(x + bias + residual)`, in place: the end of each residual block.
struct ResidualNorm<'a> {
    bias: &'a [f32],
    norm: &'a LayerNorm,
}

impl InplaceOp2 for ResidualNorm<'_> {
    fn name(&self) -> &'static str {
        "add-bias-residual-layer-norm"
    }

    fn cpu_fwd(
        &self,
        storage: &mut CpuStorage,
        layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> candle_core::Result<()> {
        let width = self.bias.len();
        if self.norm.gamma.len() != width || self.norm.beta.len() != width {
            candle_core::bail!("{}: layer norm of another width", self.name())
        }
        let residual = rows(residual, residual_layout, width, self.name())?;
        let rows = rows_mut(storage, layout, width, self.name())?;
        if rows.len() != residual.len() {
            candle_core::bail!("{}: residual of another shape", self.name())
        }
        let params = NormParams {
            bias: self.bias,
            gamma: &self.norm.gamma,
            beta: &self.norm.beta,
            eps: self.norm.eps,
        };
        folio_kernels::add_bias_residual_layer_norm(rows, residual, params);
        Ok(())
    }
}

/// The elements of a contiguous f32 matrix whose rows are `width` long.
fn rows<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    width: usize,
    op: &str,
) -> candle_core::Result<&'a [f32]> {
    match storage {
        CpuStorage::F32(data) => data.get(row_range(layout, width, op)?),
        _ => None,
    }
    .ok_or_else(|| not_rows(op, width))
}

fn rows_mut<'a>(
    storage: &'a mut CpuStorage,
    layout: &Layout,
    width: usize,
    op: &str,
) -> candle_core::Result<&'a mut [f32]> {
    match storage {
        CpuStorage::F32(data) => data.get_mut(row_range(layout, width, op)?),
        _ => None,
    }
    .ok_or_else(|| not_rows(op, width))
}

fn row_range(
    layout: &Layout,
    width: usize,
    op: &str,
) -> candle_core::Result<std::ops::Range<usize>> {
    match layout.contiguous_offsets() {
        Some((start, end)) if width > 0 && (end - start).is_multiple_of(width) => Ok(start..end),
        _ => Err(not_rows(op, width)),
    }
}

fn not_rows(op: &str, width: usize) -> candle_core::Error {
    candle_core::Error::Msg(format!(
        "{op} needs a contiguous f32 matrix with rows of {width}"
    ))
}

fn take(tensors: &mut HashMap<String, Tensor>, name: &str) -> Result<Tensor> {
    let tensor = tensors
        .remove(name)
        .ok_or_else(|| Error::Embedding(format!("model.safetensors lacks {name}")))?;
    Ok(tensor.to_dtype(DType::F32)?)
}

fn layer_norm(tensors: &mut HashMap<String, Tensor>, prefix: &str, eps: f32) -> Result<LayerNorm> {
    Ok(LayerNorm {
        gamma: take(tensors, &format!("{prefix}.LayerNorm.weight"))?.to_vec1()?,
        beta: take(tensors, &format!("{prefix}.LayerNorm.bias"))?.to_vec1()?,
        eps,
    })
}

/// Stored `[out, in]`; the product wants `[in, out]`.
fn transposed(weight: Tensor) -> Result<Tensor> {
    Ok(weight.t()?.contiguous()?)
}

/// Rows of `x` scaled to unit length.
pub fn l2_normalized(x: &Tensor) -> Result<Tensor> {
    let norms = x
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12, f64::MAX)?;
    Ok(x.broadcast_div(&norms)?)
}
