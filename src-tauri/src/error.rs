//! Errors as the UI receives them: `{code, message}`, with the core's stable codes.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ShellError {
    /// Stable, machine-readable (the core's `Error::code`, or one of the shell's own).
    pub code: &'static str,
    /// For people: what went wrong and what to do.
    pub message: String,
}

impl ShellError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ShellError {
            code: "invalid_input",
            message: message.into(),
        }
    }

    /// Another process (a `folio add` in a terminal) holds the library for writing.
    pub fn read_only(message: impl Into<String>) -> Self {
        ShellError {
            code: "busy",
            message: message.into(),
        }
    }
}

impl From<folio::Error> for ShellError {
    fn from(error: folio::Error) -> Self {
        ShellError {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

pub type ShellResult<T> = Result<T, ShellError>;
