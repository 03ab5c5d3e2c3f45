//! Errors of trace writing, reading and verification.

use std::path::Path;
use thiserror::Error;

/// What went wrong with a trace.
#[derive(Debug, Error)]
pub enum TraceError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The trace is not well formed: truncated, corrupted or of another format.
    #[error("malformed trace at {at}: {message}")]
    Malformed {
        /// Where: a byte offset or line number.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// The module could not be loaded or analysed.
    #[error("module: {0}")]
    Module(String),
    /// The traced run could not be set up.
    #[error("{0}")]
    Run(String),
    /// The trace was written for another module.
    #[error("the trace was recorded from module {expected}, not {found}")]
    WrongModule {
        /// Hash in the trace header.
        expected: String,
        /// Hash of the module given.
        found: String,
    },
}

impl TraceError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        TraceError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn malformed(at: impl std::fmt::Display, message: impl Into<String>) -> Self {
        TraceError::Malformed {
            at: at.to_string(),
            message: message.into(),
        }
    }
}
