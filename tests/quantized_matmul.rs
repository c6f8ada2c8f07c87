//! The quantized matrix products Folio patches in candle-core (vendor/candle-core, see its
//! FOLIO-PATCH.md) agree with candle's generic scalar dot product: decoding (one activation
//! row, four weight rows per call plus a tail), and prompts (a few rows through cache tiles,
//! many rows through dequantized weights).
#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use candle_core::quantized::k_quants::{matmul, BlockQ5_0, BlockQ8_0, GgmlType};

/// Deterministic values in -0.5..0.5 (a linear congruential generator).
fn pseudo_random(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

/// `matmul` of `m` activation rows by `n` weight rows of length `k` (quantized as `T`), checked
/// against `vec_dot_unopt` on the same quantized operands. The tolerance is relative to the sum
/// of the absolute products, since the prompt paths round activations differently.
fn agrees_with_scalar<T: GgmlType>(m: usize, k: usize, n: usize, tolerance: f32) {
    let weights = pseudo_random(n * k, 1);
    let mut quantized = vec![T::zeros(); n * k / T::BLCK_SIZE];
    T::from_float(&weights, &mut quantized);
    let lhs = pseudo_random(m * k, 2);
    let mut dst = vec![0f32; m * n];
    matmul((m, k, n), &lhs, &quantized, &mut dst).unwrap();

    let blocks = k / T::BLCK_SIZE;
    for row in 0..m {
        let lhs_row = &lhs[row * k..(row + 1) * k];
        let mut lhs_q = vec![T::VecDotType::zeros(); blocks];
        T::VecDotType::from_float(lhs_row, &mut lhs_q);
        let scale: f32 = lhs_row.iter().map(|x| x.abs()).sum::<f32>() * 0.5;
        for col in 0..n {
            let expected =
                T::vec_dot_unopt(k, &quantized[col * blocks..(col + 1) * blocks], &lhs_q);
            let got = dst[row * n + col];
            assert!(
                (got - expected).abs() <= tolerance * scale,
                "{:?} m={m} row {row} col {col}: {got} vs scalar {expected}",
                T::DTYPE
            );
        }
    }
}

#[test]
fn decoding_products_match_the_scalar_dot_product() {
    // 4,867 weight rows: four per call and a tail of three.
    agrees_with_scalar::<BlockQ5_0>(1, 896, 4867, 1e-5);
    agrees_with_scalar::<BlockQ8_0>(1, 896, 4867, 1e-5);
}

#[test]
fn prompt_products_match_the_scalar_dot_product() {
    for m in [5, 20] {
        // Many rows use f32 or bf16 activations (8 significant bits), not 8-bit integers.
        agrees_with_scalar::<BlockQ5_0>(m, 896, 131, 5e-3);
        agrees_with_scalar::<BlockQ8_0>(m, 896, 131, 5e-3);
    }
}
