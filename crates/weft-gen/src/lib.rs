//! weft-gen: random WebAssembly programs that always validate, run to completion without
//! trapping within a fuel budget, and come with exact answers computed by the engine.
//!
//! - [`gen`]: the generator (tiles over a typed shadow state with engine-computed values).
//! - [`probe`]: how the engine runs partial programs to tell the generator concrete states.
//! - [`action`] and [`strategy`]: what is offered and who chooses.
//! - [`program`]: modules, their binary and their flat text.
//! - [`answer`], [`sample`]: ground truth and the dataset schema.
//! - [`dataset`]: parallel, deterministic, resumable dataset writing.
//! - [`wasmweaver`]: import and export of WasmWeaver's format; [`verify`]: re-checking datasets.
#![deny(missing_docs)]

pub mod action;
pub mod answer;
pub mod bench;
pub mod config;
pub mod dataset;
pub mod gen;
pub mod ins;
pub mod nan;
pub mod ops;
pub mod probe;
pub mod program;
pub mod rng;
pub mod sample;
pub mod strategy;
pub mod verify;
pub mod wasmweaver;

pub use action::Action;
pub use config::{parse_range, GenConfig, Task};
pub use gen::{GenError, Generated, Generator};
pub use program::Program;
pub use sample::{build, build_with, Built, Sample};
pub use strategy::{Strategy, Uniform, Weighted};
