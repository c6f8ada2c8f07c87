//! The two derived search indexes. Both are keyed by catalog chunk ids and can be rebuilt from
//! the catalog at any time (`Library::reindex`).

pub mod keyword;
pub mod tokenizer;
pub mod vector;

pub use keyword::{KeywordHit, KeywordIndex};
pub use vector::{VectorHit, VectorIndex};
