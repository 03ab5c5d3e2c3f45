use weft_gen::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let task: Task = args
        .get(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(Task::Result);
    let n: u64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(100);
    let cfg = GenConfig {
        task,
        ..GenConfig::default()
    };
    let t = std::time::Instant::now();
    let mut fails = 0;
    let mut probes = 0u64;
    let mut fuel = 0u64;
    let mut att = 0;
    for i in 0..n {
        match build(&cfg, 1, i) {
            Ok(b) => {
                probes += b.generated.stats.probes as u64;
                fuel += b.sample.fuel;
                att += b.sample.attempts - 1;
                if i < 1 && args.len() > 3 {
                    println!(
                        "{}\n{}",
                        b.sample.wat,
                        serde_json::to_string(&b.sample.answers).unwrap()
                    );
                }
            }
            Err(e) => {
                fails += 1;
                if fails < 5 {
                    println!("fail {i}: {e}");
                }
            }
        }
    }
    println!(
        "{n} in {:?}, fails {fails}, retries {att}, probes/prog {}, fuel/prog {}",
        t.elapsed(),
        probes / n,
        fuel / n
    );
}
