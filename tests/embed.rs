//! The embedder on the real all-MiniLM-L6-v2 weights: texts packed into one batch get the same
//! vectors as texts embedded alone, vectors have unit length, and meaning decides closeness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod support;

use folio::embed::{Embedder, MiniLmEmbedder, MINILM_DIR};

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn packed_batches_match_texts_embedded_alone() {
    let embedder = MiniLmEmbedder::load(&support::models_dir().join(MINILM_DIR))
        .unwrap()
        .with_batch_size(3);
    let long = "The harbour master charges a mooring fee per night. ".repeat(60);
    let texts = [
        "Cat.",
        "A cat is sitting on a rug in the kitchen.",
        "Quarterly revenue rose 5% to $18,120 million, driven by data center sales.",
        long.as_str(),
        "The cat sits on the mat.",
    ];
    let together = embedder.embed(&texts).unwrap();
    assert_eq!(together.len(), texts.len());
    for (text, vector) in texts.iter().zip(&together) {
        assert_eq!(vector.len(), embedder.dimension());
        assert!((dot(vector, vector) - 1.0).abs() < 1e-5);
        let alone = embedder.embed(&[text]).unwrap();
        assert!(
            dot(vector, &alone[0]) > 0.99999,
            "{text:.40}: packed and alone differ"
        );
    }
    let (cat_mat, cat_rug, revenue) = (&together[4], &together[1], &together[2]);
    assert!(dot(cat_mat, cat_rug) > dot(cat_mat, revenue) + 0.2);
}
