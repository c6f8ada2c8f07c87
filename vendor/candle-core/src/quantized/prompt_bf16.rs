//! Folio patch: prompt-row products with bf16 dot-product instructions (AVX-512 BF16, `vdpbf16ps`).
//!
//! `vdpbf16ps` multiplies pairs of bf16 values and adds both products to an f32 lane, twice
//! the multiply-adds of an f32 FMA per instruction. Weights are dequantized once per call into
//! bf16 panels of 16 output columns, laid out pair-major so one 64-byte load feeds one
//! instruction; each activation row is rounded to bf16 and a pair of its values is broadcast to
//! all lanes. Products accumulate in f32. Rounding both operands to bf16 (8 significant bits)
//! is about the precision of llama.cpp's 8-bit activations.

use rayon::prelude::*;

use std::arch::x86_64::*;

/// Output columns per panel: one 512-bit register of f32.
const PANEL_COLS: usize = 16;
/// Panels one kernel call walks side by side (accumulators: ROWS × PANELS registers).
const PANELS: usize = 3;
/// Activation rows one kernel call walks side by side.
const ROWS: usize = 8;
/// Rows of one parallel work item.
const ROWS_PER_TASK: usize = 64;

/// Whether this CPU has the instructions (std caches the answer).
pub(crate) fn available() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bf16")
}

/// Rounds to the nearest bf16, ties to even (NaN stays NaN).
fn bf16_bits(value: f32) -> u32 {
    let bits = value.to_bits();
    if value.is_nan() {
        return (bits >> 16) | 0x40;
    }
    (bits + 0x7fff + ((bits >> 16) & 1)) >> 16
}

/// Rows of `k` f32 as pairs of bf16 (one u32 per pair, the lower half the first value).
fn pack_rows(rows: &[f32], k: usize, pairs: usize, out: &mut [u32]) {
    for (row, packed) in rows.chunks(k).zip(out.chunks_mut(pairs)) {
        let vectorized = if k % 32 == 0 {
            // Safety: `available()` was checked by `matmul`'s caller; both slices hold k values.
            unsafe { pack_row_avx512(row, packed) };
            k / 2
        } else {
            0
        };
        for (p, slot) in packed.iter_mut().enumerate().skip(vectorized) {
            let first = row.get(2 * p).copied().unwrap_or(0.0);
            let second = row.get(2 * p + 1).copied().unwrap_or(0.0);
            *slot = bf16_bits(first) | (bf16_bits(second) << 16);
        }
    }
}

/// Same rounding as `bf16_bits`, 32 values per step; consecutive bf16 values are the pairs.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn pack_row_avx512(row: &[f32], packed: &mut [u32]) {
    for (values, out) in row.chunks_exact(32).zip(packed.chunks_exact_mut(16)) {
        let low = _mm512_loadu_ps(values.as_ptr());
        let high = _mm512_loadu_ps(values.as_ptr().add(16));
        // The second operand goes to the lower half.
        let bf16: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(high, low));
        _mm512_storeu_si512(out.as_mut_ptr().cast(), bf16);
    }
}

/// `dst` (m × n, row-major) = `lhs` (m × k, row-major) × Wᵀ, where W has n rows of k values
/// and `dequantize(first_row, out)` writes rows `first_row..` of W as f32 into `out`
/// (`out.len()` is a multiple of k).
///
/// Call only when `available()`.
pub(crate) fn matmul(
    (m, k, n): (usize, usize, usize),
    lhs: &[f32],
    dequantize: impl Fn(usize, &mut [f32]) + Sync,
    dst: &mut [f32],
) {
    let pairs = k.div_ceil(2);
    let panels = n.div_ceil(PANEL_COLS);
    // Weights: panel-major, then pair, then column.
    let mut weights = vec![0u32; panels * pairs * PANEL_COLS];
    weights
        .par_chunks_mut(pairs * PANEL_COLS)
        .enumerate()
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(rows, rows_bf16), (panel, packed)| {
                let first = panel * PANEL_COLS;
                let cols = PANEL_COLS.min(n - first);
                rows.resize(cols * k, 0f32);
                dequantize(first, rows);
                rows_bf16.resize(cols * pairs, 0u32);
                pack_rows(rows, k, pairs, rows_bf16);
                // Transpose to pair-major: one pair of each of the 16 columns per 64 bytes.
                for (p, out) in packed.chunks_exact_mut(PANEL_COLS).enumerate() {
                    for (c, slot) in out.iter_mut().take(cols).enumerate() {
                        *slot = rows_bf16[c * pairs + p];
                    }
                }
            },
        );
    let mut activations = vec![0u32; m * pairs];
    activations
        .par_chunks_mut(pairs * ROWS_PER_TASK)
        .zip(lhs.par_chunks(k * ROWS_PER_TASK))
        .for_each(|(out, rows)| pack_rows(rows, k, pairs, out));

    // Work items: a group of PANELS panels × up to ROWS_PER_TASK rows. Each owns a disjoint
    // set of output cells, written through a raw pointer.
    let groups = panels.div_ceil(PANELS);
    let row_tasks = m.div_ceil(ROWS_PER_TASK);
    let dst_addr = dst.as_mut_ptr() as usize;
    (0..groups * row_tasks).into_par_iter().for_each(|task| {
        let (group, row_task) = (task % groups, task / groups);
        let first_panel = group * PANELS;
        let group_panels = PANELS.min(panels - first_panel);
        let row_end = ((row_task + 1) * ROWS_PER_TASK).min(m);
        let mut row = row_task * ROWS_PER_TASK;
        while row < row_end {
            let rows = ROWS.min(row_end - row);
            let tile = Tile {
                activations: activations[row * pairs..].as_ptr(),
                weights: weights[first_panel * pairs * PANEL_COLS..].as_ptr(),
                pairs,
                dst: (dst_addr as *mut f32).wrapping_add(row * n + first_panel * PANEL_COLS),
                dst_stride: n,
                cols: (n - first_panel * PANEL_COLS).min(group_panels * PANEL_COLS),
            };
            // Safety: `available()` was checked by the caller; the tile's pointers cover
            // `rows` activation rows, `group_panels` weight panels and the output cells of
            // those rows and columns, which no other task writes.
            unsafe { tile.run(rows, group_panels) };
            row += rows;
        }
    });
}

struct Tile {
    activations: *const u32,
    weights: *const u32,
    pairs: usize,
    dst: *mut f32,
    dst_stride: usize,
    /// Valid output columns from `dst` (≤ panels × 16).
    cols: usize,
}

impl Tile {
    unsafe fn run(&self, rows: usize, panels: usize) {
        match rows {
            1 => self.panels::<1>(panels),
            2 => self.panels::<2>(panels),
            3 => self.panels::<3>(panels),
            4 => self.panels::<4>(panels),
            5 => self.panels::<5>(panels),
            6 => self.panels::<6>(panels),
            7 => self.panels::<7>(panels),
            _ => self.panels::<ROWS>(panels),
        }
    }

    unsafe fn panels<const R: usize>(&self, panels: usize) {
        match panels {
            1 => self.kernel::<R, 1>(),
            2 => self.kernel::<R, 2>(),
            _ => self.kernel::<R, PANELS>(),
        }
    }

    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn kernel<const R: usize, const P: usize>(&self) {
        let mut acc = [[_mm512_setzero_ps(); P]; R];
        let panel_len = self.pairs * PANEL_COLS;
        for p in 0..self.pairs {
            let mut w = [_mm512_setzero_si512(); P];
            for (j, w) in w.iter_mut().enumerate() {
                *w = _mm512_loadu_si512(self.weights.add(j * panel_len + p * PANEL_COLS).cast());
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let a = _mm512_set1_epi32(*self.activations.add(r * self.pairs + p) as i32);
                for (acc, w) in acc.iter_mut().zip(&w) {
                    *acc = _mm512_dpbf16_ps(*acc, std::mem::transmute(a), std::mem::transmute(*w));
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let out = self.dst.add(r * self.dst_stride);
            for (j, acc) in acc.iter().enumerate() {
                let valid = self.cols.saturating_sub(j * PANEL_COLS).min(PANEL_COLS);
                let mask: __mmask16 = if valid == PANEL_COLS { 0xffff } else { (1u16 << valid) - 1 };
                _mm512_mask_storeu_ps(out.add(j * PANEL_COLS), mask, *acc);
            }
        }
    }
}
