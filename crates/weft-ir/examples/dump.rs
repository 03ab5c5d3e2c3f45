//! Prints the lowered code of every function of a module (debugging aid).
fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: dump FILE [exact|fuel]");
    let mode = match std::env::args().nth(2).as_deref() {
        Some("exact") => weft_ir::LowerMode::EXACT,
        Some("fuel") => weft_ir::LowerMode::FAST_FUEL,
        _ => weft_ir::LowerMode::FAST,
    };
    let bytes = std::fs::read(&path).expect("read");
    let m = weft_ir::Module::from_bytes_or_text(&bytes).expect("load");
    for f in m.lowered(mode).expect("lower").iter() {
        println!(
            "func {} (params {}, locals {:?}, max {})",
            f.func_index, f.num_params, f.local_types, f.max_height
        );
        for (pc, i) in f.code.iter().enumerate() {
            println!("  {pc:4} @{:#x} {i:?}", f.offsets[pc]);
        }
    }
}
