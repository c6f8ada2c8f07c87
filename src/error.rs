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
    #[error("the disk holding the library at {library} is full (Folio stopped while writing the {store}): free some space, then run the same command again; documents added before are kept and stay searchable")]
    DiskFull {
        library: PathBuf,
        store: &'static str,
    },
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
            Error::DiskFull { .. } => "disk_full",
        }
    }

    /// Whether a full disk or quota caused this (ENOSPC or SQLite's "database or disk is full"),
    /// wherever in the chain of causes it sits. LanceDB keeps only the message of some causes.
    fn is_disk_full(&self) -> bool {
        use std::io::ErrorKind;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if let Some(io) = error.downcast_ref::<std::io::Error>() {
                if matches!(io.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded) {
                    return true;
                }
            }
            cause = error.source();
        }
        const SQLITE_FULL: &str = "13";
        let sqlite_full = matches!(self, Error::Catalog(sqlx::Error::Database(db))
            if db.code().as_deref() == Some(SQLITE_FULL));
        sqlite_full || self.to_string().contains("No space left on device")
    }

    /// Names a full disk as such, so the user reads what to do instead of a storage error.
    pub(crate) fn explain_disk_full(self, library: &std::path::Path) -> Self {
        let store = match &self {
            Error::DiskFull { .. } => return self,
            Error::Catalog(_) | Error::Migration(_) => "catalog",
            Error::KeywordIndex(_) => "keyword index",
            Error::VectorIndex(_) => "vector index",
            _ => "library",
        };
        if self.is_disk_full() {
            Error::DiskFull {
                library: library.to_path_buf(),
                store,
            }
        } else {
            self
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_apart_from_other_storage_errors() {
        const ENOSPC: i32 = 28;
        let full = Error::io(
            "/lib/catalog.sqlite",
            std::io::Error::from_raw_os_error(ENOSPC),
        );
        let explained = full.explain_disk_full(std::path::Path::new("/lib"));
        assert_eq!(explained.code(), "disk_full");
        assert!(explained.to_string().contains("free some space"));
        let missing = Error::io("/lib/x", std::io::ErrorKind::NotFound.into());
        assert_eq!(
            missing
                .explain_disk_full(std::path::Path::new("/lib"))
                .code(),
            "io"
        );
    }
}
