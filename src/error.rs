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
    #[error("{path} is not a usable model: {reason}")]
    NotAModel { path: PathBuf, reason: String },
    #[error("{path}: the model architecture {architecture:?} is not supported (supported: {supported})", supported = crate::llm::SUPPORTED_ARCHITECTURES.join(", "))]
    UnsupportedModel { path: PathBuf, architecture: String },
    #[error("{path} needs about {needed_mib} MiB but only {available_mib} MiB of memory is free; close other programs or choose a smaller model", needed_mib = needed >> 20, available_mib = available >> 20)]
    ModelTooLarge {
        path: PathBuf,
        needed: u64,
        available: u64,
    },
    #[error("could not load the model {path}: {reason}")]
    ModelLoad { path: PathBuf, reason: String },
    #[error("no language model installed in {0}: run `scripts/fetch-models` or `folio models add FILE.gguf`")]
    NoModel(PathBuf),
    #[error("no installed model is called {0:?} (see `folio models`)")]
    NoSuchModel(String),
    #[error("generation failed: {0}")]
    Generation(String),
    #[error("no conversation with id {0} (see `folio chats`)")]
    NoSuchConversation(i64),
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
            Error::NotAModel { .. } => "not_a_model",
            Error::UnsupportedModel { .. } => "unsupported_model",
            Error::ModelTooLarge { .. } => "model_too_large",
            Error::ModelLoad { .. } => "model_load",
            Error::NoModel(_) => "no_model",
            Error::NoSuchModel(_) => "no_such_model",
            Error::Generation(_) => "generation",
            Error::NoSuchConversation(_) => "no_such_conversation",
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
