//! Arbitrary UTF-8 through `Module::from_bytes_or_text` (text parsing, validation, loading);
//! must never panic. Valid modules are also lowered in every mode, as instantiation would do.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_ir::{LowerMode, Module};

fuzz_target!(|text: &str| {
    if let Ok(m) = Module::from_bytes_or_text(text.as_bytes()) {
        for mode in [LowerMode::FAST, LowerMode::FAST_FUEL, LowerMode::EXACT] {
            let _ = m.lowered(mode);
        }
    }
});
