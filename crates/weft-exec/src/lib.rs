//! The weft engine: `Machine<D: Domain, O: Observer>`, written once and monomorphised.
//!
//! - [`Domain`] decides what values are (concrete bits here; taint and symbolic domains live
//!   in other crates) and resolves branch conditions, indices, addresses and traps.
//! - [`Observer`] sees every step when enabled; [`NoObserver`] compiles to nothing.
//! - Fuel follows wasmtime 48's default cost model exactly ([`weft_core::fuel`]).
//! - [`wasi`] implements WASI preview 1 for C programs built with wasi-libc.
#![deny(missing_docs)]

pub mod concrete;
pub mod domain;
mod error;
pub mod host;
mod instantiate;
mod limits;
pub mod machine;
pub mod observer;
pub mod store;
pub mod wasi;

pub use concrete::{Concrete, ConcreteMemory};
pub use domain::{Domain, Fault, LinearMemory};
pub use error::{ExecError, LinkError, Trap};
pub use host::{HostCtx, HostError, HostFunc};
pub use limits::Limits;
pub use machine::{Config, Machine};
pub use observer::{AccessKind, NoObserver, Observer, StepView};
pub use store::{Extern, Linker, Store};

/// A machine over concrete values without an observer: the fast path.
pub type ConcreteMachine = Machine<Concrete, NoObserver>;
