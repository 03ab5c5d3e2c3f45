//! Errors of execution and instantiation.

use std::fmt;
use thiserror::Error;
use weft_core::TrapCode;

/// A trap, with where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What went wrong.
    pub code: TrapCode,
    /// Function index (within its module) where it happened, if in wasm code.
    pub func: Option<u32>,
    /// Code-section byte offset of the trapping instruction.
    pub offset: Option<u32>,
    /// Extra detail (host errors).
    pub detail: Option<String>,
}

impl Trap {
    /// A trap without location.
    pub fn new(code: TrapCode) -> Self {
        Trap {
            code,
            func: None,
            offset: None,
            detail: None,
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        match (self.func, self.offset) {
            (Some(func), Some(off)) => write!(f, " (in function {func} at offset 0x{off:x})"),
            (Some(func), None) => write!(f, " (in function {func})"),
            _ => Ok(()),
        }
    }
}

/// Why a call did not return normally.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ExecError {
    /// Execution trapped.
    #[error("trap: {0}")]
    Trap(Trap),
    /// The program asked to exit (WASI `proc_exit`).
    #[error("exit with code {0}")]
    Exit(i32),
    /// The domain asked its driver to choose; the machine can be resumed.
    #[error("execution suspended for a domain decision")]
    Suspended,
    /// The call itself was wrong (unknown export, wrong argument types, ...).
    #[error("{0}")]
    Usage(String),
}

impl ExecError {
    /// The trap code, if this is a trap.
    pub fn trap_code(&self) -> Option<TrapCode> {
        match self {
            ExecError::Trap(t) => Some(t.code),
            _ => None,
        }
    }
}

/// Why instantiation failed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum LinkError {
    /// An import is not provided.
    #[error("unknown import: `{module}::{name}` has not been defined")]
    UnknownImport {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },
    /// An import has the wrong type.
    #[error("incompatible import type for `{module}::{name}`: {reason}")]
    IncompatibleImport {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
        /// What differs.
        reason: String,
    },
    /// A limit was exceeded.
    #[error("resource limit exceeded: {0}")]
    Limit(String),
    /// Initialisation (segments or start function) trapped or failed.
    #[error("instantiation failed: {0}")]
    Exec(ExecError),
    /// The module could not be lowered.
    #[error("{0}")]
    Load(String),
}
