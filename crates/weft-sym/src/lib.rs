//! Symbolic execution and taint tracking: two more [`weft_exec::Domain`]s on the one engine.
//!
//! - [`taint`]: values carry the set of input sources that influence them.
#![deny(missing_docs)]

pub mod taint;
