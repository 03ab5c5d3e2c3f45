//! Load errors.

use thiserror::Error;

/// Why a module could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The text format could not be parsed.
    #[error("invalid WebAssembly text: {0}")]
    Text(String),
    /// The binary is malformed or fails validation.
    #[error("invalid module at byte offset 0x{offset:x}: {message}")]
    Invalid {
        /// Byte offset in the binary where the problem was found.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// The module uses a feature weft does not implement.
    #[error("unsupported at byte offset 0x{offset:x}: {message}")]
    Unsupported {
        /// Byte offset in the binary.
        offset: u64,
        /// What is unsupported.
        message: String,
    },
    /// The module exceeds a size limit.
    #[error("module too large: {0}")]
    TooLarge(String),
}

impl From<wasmparser::BinaryReaderError> for LoadError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        LoadError::Invalid {
            offset: e.offset(),
            message: e.message().to_string(),
        }
    }
}
