//! Wraps a wasm32-wasi (preview 1) command as a WASI 0.2 component with wasmtime 48's
//! preview 1 command adapter, as `wasm-tools component new --adapt` does:
//!
//! ```sh
//! cargo run -p weft-rr --example adapt -- IN.wasm OUT.wasm
//! ```
//!
//! `fixtures/rr/build.sh` uses it for the component fixtures.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: adapt IN.wasm OUT.wasm");
        return ExitCode::from(2);
    };
    let result = std::fs::read(input)
        .map_err(|e| format!("{input}: {e}"))
        .and_then(|core| {
            weft_rr::wasi_p2::adapt_command(&core).map_err(|e| format!("{input}: {e}"))
        })
        .and_then(|component| {
            weft_rr::write_atomic(std::path::Path::new(output), &component)
                .map_err(|e| format!("{output}: {e}"))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
