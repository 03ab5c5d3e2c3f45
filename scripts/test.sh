#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace (unit tests, the
# WebAssembly spec suite, WASI fixtures, differential tests against wasmtime and wasmi, CLI).
# Needs the Rust toolchain; cargo fetches the crates. The symbolic-execution tests need the SMT
# solvers cvc5 and z3: they are installed from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cvc5 >/dev/null || ! command -v z3 >/dev/null; then
  if command -v apt-get >/dev/null; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq cvc5 z3 >/dev/null
  else
    echo "warning: cvc5/z3 not found and apt-get unavailable; solver tests will fail" >&2
  fi
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
