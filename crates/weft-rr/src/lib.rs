//! Record, replay and fuzz WebAssembly modules and components on wasmtime 48.
//!
//! - [`trace`]: the versioned JSON Lines trace format, its reader and (atomic) writer.
//! - [`codec`]: core values to and from their text form (WAVE, floats bit-exact).
//! - [`record`]: runs a core module (a WASI preview 1 command) with every import wrapped.
//! - [`replay`]: runs a core module with every import answered from a trace.
//! - [`standalone`]: turns a module and a trace into a module with no imports.
//! - [`component`]: record, replay and fuzzing of components against dynamic hosts.
//! - [`wasi_p2`]: recording components against wasmtime's own WASI 0.2 host.
//! - [`cvalue`]: component values as WAVE text, with labels for resource handles.
//! - [`fuzz`]: seeded generation of export arguments and import results from their types.
//! - [`memory`]: the guest memory view that logs the host's reads and writes.
//! - [`wasi_schema`]: which WASI preview 1 arguments are pointers (replay on another build).
//! - [`error`]: bad input and divergences.

#![deny(missing_docs)]

pub mod codec;
pub mod component;
pub mod cvalue;
pub mod error;
pub mod fuzz;
pub mod memory;
pub mod record;
pub mod replay;
pub mod standalone;
pub mod trace;
pub mod wasi_p2;
pub mod wasi_schema;

pub use error::{Divergence, RrError};
pub use trace::{Event, Header, Trace};

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// Parses lower- or upper-case hex; `None` on an odd length or a bad digit.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    fn d(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| Some(d(p[0])? << 4 | d(p[1])?))
        .collect()
}

/// Reads a module or component from a `.wasm` or `.wat` file (text is parsed with `wat`).
pub fn load_binary(path: &std::path::Path) -> Result<Vec<u8>, RrError> {
    let bytes = std::fs::read(path).map_err(|e| RrError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    wat::parse_bytes(&bytes)
        .map(|b| b.into_owned())
        .map_err(|e| RrError::Input(format!("{}: {e}", path.display())))
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), RrError> {
    use std::io::Write;
    let io = |e: std::io::Error| RrError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}
