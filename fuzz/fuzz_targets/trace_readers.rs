//! Arbitrary bytes as a trace file (JSON Lines, binary or witness, told apart by their first
//! bytes): `read_trace` and up to 10,000 rows must give rows or a clear error, never a panic.
//! Witness inputs embed a module; the rebuild it runs stops when the reader is dropped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).and_then(|()| file.flush()).is_err() {
        return;
    }
    let Ok((_, mut reader)) = weft_trace::read_trace(file.path()) else {
        return;
    };
    for _ in 0..10_000 {
        match reader.next_row() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
});
