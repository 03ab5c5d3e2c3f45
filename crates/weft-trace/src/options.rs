//! What a trace keeps: how much of the stack and locals, which steps and which rows.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How much of the operand stack (top values) or of the locals (first values) a row keeps.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capture {
    /// Every value.
    Full,
    /// At most this many: the top of the stack, the first locals.
    Top(u32),
    /// None (the row still says how many there are).
    None,
}

impl Capture {
    /// How many of `len` values to keep.
    pub fn keep(self, len: usize) -> usize {
        match self {
            Capture::Full => len,
            Capture::Top(n) => len.min(n as usize),
            Capture::None => 0,
        }
    }
}

impl FromStr for Capture {
    type Err = String;
    /// `full`, `none` or `top:N`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "full" => Ok(Capture::Full),
            "none" => Ok(Capture::None),
            _ => s
                .strip_prefix("top:")
                .and_then(|n| n.parse().ok())
                .map(Capture::Top)
                .ok_or_else(|| format!("`{s}`: expected `full`, `none` or `top:N`")),
        }
    }
}

impl fmt::Display for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capture::Full => f.write_str("full"),
            Capture::Top(n) => write!(f, "top:{n}"),
            Capture::None => f.write_str("none"),
        }
    }
}

/// Which rows a trace writes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// Every step.
    All,
    /// Only steps that access memory (loads, stores, bulk operations, host writes).
    Memory,
    /// Only calls and returns.
    Calls,
}

impl FromStr for Filter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Filter::All),
            "memory" => Ok(Filter::Memory),
            "calls" => Ok(Filter::Calls),
            _ => Err(format!("`{s}`: expected `all`, `memory` or `calls`")),
        }
    }
}

/// An output format.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines: a header line, one line per row, a summary line.
    Jsonl,
    /// The compact binary stream.
    Binary,
    /// zkVM-style tables (execution, memory, control) as CSV and Parquet in a directory.
    Tables,
    /// Every computed value, rows rebuilt on reading (see [`crate::witness`]).
    Witness,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jsonl" => Ok(Format::Jsonl),
            "bin" | "binary" => Ok(Format::Binary),
            "tables" => Ok(Format::Tables),
            "witness" => Ok(Format::Witness),
            _ => Err(format!(
                "`{s}`: expected `jsonl`, `bin`, `tables` or `witness`"
            )),
        }
    }
}

/// Everything that decides which rows a trace holds and what is in them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceOptions {
    /// Operand stack values kept per row (from the top).
    pub stack: Capture,
    /// Locals kept per row (from the first).
    pub locals: Capture,
    /// Whether rows carry the whole call stack (JSON Lines and verification; the binary
    /// format always rebuilds it from call and return records).
    pub frames: bool,
    /// First step written (steps count from 0).
    pub from_step: u64,
    /// Last step written, inclusive.
    pub to_step: u64,
    /// Which rows are written.
    pub filter: Filter,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            stack: Capture::Full,
            locals: Capture::Full,
            frames: true,
            from_step: 0,
            to_step: u64::MAX,
            filter: Filter::All,
        }
    }
}
