use weft_gen::*;
fn main() {
    let cfg = GenConfig {
        task: Task::Stack,
        ..GenConfig::default()
    };
    for i in 0..100u64 {
        let seed = weft_gen::rng::Rng::derive(1, i);
        let mut s = Weighted::default();
        let g = Generator::new(&cfg, seed, &mut s).run().unwrap();
        let wasm = g.program.to_wasm();
        if let Err(e) = weft_gen::answer::run(&g.program, &wasm, 400) {
            println!("{e}\n{}", g.program.to_wat());
            break;
        }
    }
}
