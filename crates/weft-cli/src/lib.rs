//! The `weft` command-line tool's library: one module per subcommand's logic, so the logic is
//! testable without spawning the binary.
#![deny(missing_docs)]

pub mod wast_runner;
