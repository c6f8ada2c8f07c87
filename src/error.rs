//! The library's error type. Binaries wrap it in `anyhow`; the desktop shell maps it to `{code, message}`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("catalog database error: {0}")]
    Catalog(#[from] sqlx::Error),
    #[error("catalog migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("keyword index error: {0}")]
    KeywordIndex(#[from] tantivy::TantivyError),
    #[error("vector index error: {0}")]
    VectorIndex(#[from] lancedb::Error),
    #[error("embedding model error: {0}")]
    Embedding(String),
    #[error("{what} not found at {path}: run `scripts/fetch-models` (or pass --models DIR)")]
    ModelMissing { what: &'static str, path: PathBuf },
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the library at {0} is busy: another Folio process is changing it; try again when it finishes")]
    Busy(PathBuf),
    #[error("no document in the library matches {0:?} (see `folio docs`)")]
    NoSuchDocument(String),
    #[error("{0:?} matches several documents; use the document id from `folio docs`")]
    AmbiguousDocument(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("a background task failed: {0}")]
    Task(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A stable machine-readable code, for JSON output and the desktop shell.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Catalog(_) | Error::Migration(_) => "catalog",
            Error::KeywordIndex(_) => "keyword_index",
            Error::VectorIndex(_) => "vector_index",
            Error::Embedding(_) => "embedding",
            Error::ModelMissing { .. } => "model_missing",
            Error::Io { .. } => "io",
            Error::Busy(_) => "busy",
            Error::NoSuchDocument(_) => "no_such_document",
            Error::AmbiguousDocument(_) => "ambiguous_document",
            Error::InvalidInput(_) => "invalid_input",
            Error::Task(_) => "task",
        }
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Embedding(e.to_string())
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Task(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
