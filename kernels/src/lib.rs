//! The hot loops of Folio's embedding encoder: the element-wise steps after each matrix
//! product, fused so each runs as one pass over the product's output, in place; and a matrix
//! product over weights laid out once in panels, for the few rows of a question.
//!
//! They live in their own crate so that development builds can compile them fully optimised
//! (`[profile.dev.package.folio-kernels]`): at Folio's own opt-level 1 these loops are neither
//! vectorised nor inlined, and the GELU alone took a tenth of the embedding time.
//!
//! Matrices are row-major `f32` slices. A slice whose length is not a multiple of the row
//! length leaves its last partial row untouched; callers check shapes first.

/// `rows[r] += bias` for every row.
pub fn add_bias(rows: &mut [f32], bias: &[f32]) {
    for row in rows.chunks_exact_mut(bias.len().max(1)) {
        for (x, b) in row.iter_mut().zip(bias) {
            *x += b;
        }
    }
}

/// `rows[r] = gelu(rows[r] + bias)`, GELU with the exact erf (as BERT defines it).
pub fn add_bias_gelu(rows: &mut [f32], bias: &[f32]) {
    for row in rows.chunks_exact_mut(bias.len().max(1)) {
        for (x, b) in row.iter_mut().zip(bias) {
            let v = *x + b;
            *x = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

/// The parameters of one residual block's output: the dense layer's bias, then the layer
/// norm's scale and shift, each one row long.
#[derive(Clone, Copy)]
pub struct NormParams<'a> {
    pub bias: &'a [f32],
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub eps: f32,
}

/// `rows[r] = layer_norm(rows[r] + bias + residual[r]) · gamma + beta`.
pub fn add_bias_residual_layer_norm(rows: &mut [f32], residual: &[f32], params: NormParams) {
    let width = params.bias.len().max(1);
    for (row, skip) in rows
        .chunks_exact_mut(width)
        .zip(residual.chunks_exact(width))
    {
        for ((x, r), b) in row.iter_mut().zip(skip).zip(params.bias) {
            *x += r + b;
        }
        let mean = sum(row) / width as f32;
        for x in row.iter_mut() {
            *x -= mean;
        }
        let variance = sum_of_squares(row) / width as f32;
        let scale = 1.0 / (variance + params.eps).sqrt();
        for ((x, g), b) in row.iter_mut().zip(params.gamma).zip(params.beta) {
            *x = *x * scale * g + b;
        }
    }
}

/// Columns of a weight panel: two AVX registers of f32.
const PANEL: usize = 16;
/// Rows of `x` multiplied at once by a panel (8 accumulator registers).
const TILE_ROWS: usize = 4;
/// Rows of `x` kept in cache while every panel passes over them.
const ROW_BLOCK: usize = 128;

/// A weight matrix `[inner, cols]` stored as panels of 16 columns, each `[inner, 16]`
/// contiguous (the last one padded with zeros), so a product streams each panel from memory
/// in order instead of jumping a row's length for every element. General GEMMs copy their
/// operand into such a layout on every call; a model's weights are laid out once.
pub struct Panels {
    data: Vec<f32>,
    inner: usize,
    cols: usize,
}

impl Panels {
    /// Panels of the row-major `w`; None when `w` is not `inner × cols` long.
    pub fn new(w: &[f32], inner: usize, cols: usize) -> Option<Panels> {
        if inner == 0 || cols == 0 || w.len() != inner * cols {
            return None;
        }
        let count = cols.div_ceil(PANEL);
        let mut data = vec![0.0; count * inner * PANEL];
        for (p, panel) in data.chunks_exact_mut(inner * PANEL).enumerate() {
            let c0 = p * PANEL;
            let width = PANEL.min(cols - c0);
            for (dst, src) in panel.chunks_exact_mut(PANEL).zip(w.chunks_exact(cols)) {
                dst[..width].copy_from_slice(&src[c0..c0 + width]);
            }
        }
        Some(Panels { data, inner, cols })
    }

    pub fn inner(&self) -> usize {
        self.inner
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `out = x · w` for row-major `x` `[rows, inner]` and `out` `[rows, cols]` (overwritten).
    /// Lengths that do not match leave `out` partly unwritten; callers check shapes first.
    pub fn matmul(&self, x: &[f32], out: &mut [f32]) {
        let (inner, cols) = (self.inner, self.cols);
        let x_rows: Vec<&[f32]> = x.chunks_exact(inner).collect();
        let mut out_rows: Vec<&mut [f32]> = out.chunks_exact_mut(cols).collect();
        for (block, x_block) in x_rows.chunks(ROW_BLOCK).enumerate() {
            let first_row = block * ROW_BLOCK;
            for (p, panel) in self.data.chunks_exact(inner * PANEL).enumerate() {
                let c0 = p * PANEL;
                let width = PANEL.min(cols - c0);
                let mut store = |row: usize, values: &[f32; PANEL]| {
                    if let Some(out_row) = out_rows.get_mut(first_row + row) {
                        out_row[c0..c0 + width].copy_from_slice(&values[..width]);
                    }
                };
                let mut groups = x_block.chunks_exact(TILE_ROWS);
                let mut row = 0;
                for group in groups.by_ref() {
                    if let [a, b, c, d] = group {
                        for (q, values) in tile_4([a, b, c, d], panel).iter().enumerate() {
                            store(row + q, values);
                        }
                    }
                    row += TILE_ROWS;
                }
                for x_row in groups.remainder() {
                    store(row, &tile_1(x_row, panel));
                    row += 1;
                }
            }
        }
    }
}

/// Four rows of `x` times one panel, accumulated in registers.
#[inline(always)]
fn tile_4(rows: [&[f32]; TILE_ROWS], panel: &[f32]) -> [[f32; PANEL]; TILE_ROWS] {
    let mut acc = [[0.0f32; PANEL]; TILE_ROWS];
    let [a, b, c, d] = rows;
    let steps = panel.chunks_exact(PANEL).zip(a).zip(b).zip(c).zip(d);
    for ((((wk, &xa), &xb), &xc), &xd) in steps {
        for (q, xv) in [xa, xb, xc, xd].into_iter().enumerate() {
            for (slot, wv) in acc[q].iter_mut().zip(wk) {
                *slot = xv.mul_add(*wv, *slot);
            }
        }
    }
    acc
}

/// One row of `x` times one panel.
#[inline(always)]
fn tile_1(x_row: &[f32], panel: &[f32]) -> [f32; PANEL] {
    let mut acc = [0.0f32; PANEL];
    for (wk, &xv) in panel.chunks_exact(PANEL).zip(x_row) {
        for (slot, wv) in acc.iter_mut().zip(wk) {
            *slot = xv.mul_add(*wv, *slot);
        }
    }
    acc
}

/// Eight partial sums, so the compiler can keep them in one vector register (a single running
/// sum is a dependency chain it may not reorder).
fn sum(xs: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (lane, x) in lanes.iter_mut().zip(chunk) {
            *lane += x;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

fn sum_of_squares(xs: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|x| x * x).sum();
    for chunk in chunks {
        for (lane, x) in lanes.iter_mut().zip(chunk) {
            *lane += x * x;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// erf to within 1e-7: the single-precision rational approximation Eigen and XLA use (odd
/// numerator of degree 13 over even denominator of degree 8, input clamped to ±4 where erf is
/// ±1 in f32). No branch and no `exp`, so a loop over it vectorises.
pub fn erf(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        -1.609_603_3e-2,
        -2.954_6e-3,
        -7.349_906_3e-4,
        -5.692_506_4e-5,
        -2.101_024e-6,
        2.770_681_4e-8,
        -2.726_142_3e-10,
    ];
    const BETA: [f32; 5] = [
        -1.426_473_9e-2,
        -7.373_329e-3,
        -1.682_827e-3,
        -2.133_740_6e-4,
        -1.456_607_2e-5,
    ];
    let [a1, a3, a5, a7, a9, a11, a13] = ALPHA;
    let [b0, b2, b4, b6, b8] = BETA;
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = x * ((((((a13 * x2 + a11) * x2 + a9) * x2 + a7) * x2 + a5) * x2 + a3) * x2 + a1);
    let q = (((b8 * x2 + b6) * x2 + b4) * x2 + b2) * x2 + b0;
    p / q
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly
mod tests {
    use super::*;

    #[test]
    fn erf_matches_reference_values() {
        // erf to 16 digits (Python's math.erf).
        let reference = [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (-0.3, -0.328_626_759_459_127_4),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (-2.7, -0.999_865_667_260_059_4),
            (3.5, 0.999_999_256_901_627_7),
            (9.0, 1.0),
        ];
        for (x, expected) in reference {
            let got = f64::from(erf(x as f32));
            assert!(
                (got - expected).abs() < 2e-7,
                "erf({x}) = {got}, not {expected}"
            );
        }
    }

    /// The fused residual block against the same steps done one at a time in f64.
    #[test]
    fn fused_layer_norm_matches_the_steps_done_apart() {
        let width = 19; // not a multiple of 8: the tail paths run too
        let rows = 3;
        let value = |i: usize, salt: f64| ((i as f64 * 0.37 + salt).sin() * 3.0) as f32;
        let mut x: Vec<f32> = (0..rows * width).map(|i| value(i, 0.1)).collect();
        let residual: Vec<f32> = (0..rows * width).map(|i| value(i, 1.3)).collect();
        let bias: Vec<f32> = (0..width).map(|i| value(i, 2.9)).collect();
        let gamma: Vec<f32> = (0..width).map(|i| 1.0 + value(i, 4.2) / 10.0).collect();
        let beta: Vec<f32> = (0..width).map(|i| value(i, 5.5) / 5.0).collect();
        let eps = 1e-12;
        let mut expected = Vec::new();
        for r in 0..rows {
            let v: Vec<f64> = (0..width)
                .map(|c| {
                    f64::from(x[r * width + c])
                        + f64::from(residual[r * width + c])
                        + f64::from(bias[c])
                })
                .collect();
            let mean = v.iter().sum::<f64>() / width as f64;
            let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / width as f64;
            for (c, a) in v.iter().enumerate() {
                let normed = (a - mean) / (var + eps).sqrt();
                expected.push(normed * f64::from(gamma[c]) + f64::from(beta[c]));
            }
        }
        let params = NormParams {
            bias: &bias,
            gamma: &gamma,
            beta: &beta,
            eps: eps as f32,
        };
        add_bias_residual_layer_norm(&mut x, &residual, params);
        for (got, want) in x.iter().zip(&expected) {
            assert!((f64::from(*got) - want).abs() < 1e-5, "{got} vs {want}");
        }
    }

    #[test]
    fn panel_product_matches_the_textbook_product() {
        // Row and column counts off the tile and block sizes, so every edge path runs.
        for (rows, inner, cols) in [(1, 3, 5), (6, 7, 35), (9, 16, 32), (4, 1, 16), (131, 5, 17)] {
            let x: Vec<f32> = (0..rows * inner).map(|i| (i as f32 * 0.7).sin()).collect();
            let w: Vec<f32> = (0..inner * cols).map(|i| (i as f32 * 1.3).cos()).collect();
            let panels = Panels::new(&w, inner, cols).unwrap();
            let mut out = vec![f32::NAN; rows * cols];
            panels.matmul(&x, &mut out);
            for r in 0..rows {
                for c in 0..cols {
                    let want: f32 = (0..inner).map(|k| x[r * inner + k] * w[k * cols + c]).sum();
                    let got = out[r * cols + c];
                    assert!(
                        (got - want).abs() < 1e-5,
                        "{rows}x{inner}x{cols} [{r},{c}]: {got} vs {want}"
                    );
                }
            }
        }
        assert!(Panels::new(&[1.0; 6], 2, 4).is_none());
    }

    #[test]
    fn bias_and_gelu_apply_per_column() {
        let mut rows = vec![0.0, 1.0, -1.0, 2.0];
        add_bias(&mut rows, &[1.0, -1.0]);
        assert_eq!(rows, vec![1.0, 0.0, 0.0, 1.0]);
        let mut rows = vec![0.0, 1.0, -1.0, 3.0];
        add_bias_gelu(&mut rows, &[0.0, -1.0]);
        // GELU(0) = 0, GELU(0) = 0, GELU(-1) = -0.158655…, GELU(2) = 1.954500…
        let want = [0.0, 0.0, -0.158_655_25, 1.954_499_7];
        for (got, want) in rows.iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }
}
