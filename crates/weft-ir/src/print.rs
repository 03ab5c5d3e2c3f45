//! Printing modules as WebAssembly text.

use crate::LoadError;

/// Prints a binary module as WAT (via wasmprinter).
pub fn print_wat(bytes: &[u8]) -> Result<String, LoadError> {
    wasmprinter::print_bytes(bytes).map_err(|e| LoadError::Invalid {
        offset: 0,
        message: format!("cannot print: {e}"),
    })
}

/// Prints a module as WAT with every instruction prefixed by its code-section byte offset
/// (`(;@1a;)`), the offsets weft reports in traps and traces.
pub fn print_module(bytes: &[u8]) -> Result<String, LoadError> {
    let mut printer = wasmprinter::Config::new();
    printer.print_offsets(true);
    let mut out = String::new();
    printer
        .print(bytes, &mut wasmprinter::PrintFmtWrite(&mut out))
        .map_err(|e| LoadError::Invalid {
            offset: 0,
            message: format!("cannot print: {e}"),
        })?;
    Ok(out)
}
