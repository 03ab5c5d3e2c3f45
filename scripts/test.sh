#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace (unit tests, the
# WebAssembly spec suite, WASI fixtures, differential tests against wasmtime and wasmi, CLI).
# Needs only the Rust toolchain; everything else is fetched by cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
