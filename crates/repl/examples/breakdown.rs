use bpf_repl::engine::{Repl, ReplOptions};
fn main() {
    let mut repl = Repl::new(&ReplOptions::default()).unwrap();
    let mut c = vec![];
    let mut l = vec![];
    let mut r = vec![];
    let mut tot = vec![];
    for k in 0..30 {
        let s = std::time::Instant::now();
        let ev = repl.eval(&format!("{k} * 2 + 1"), None).unwrap();
        tot.push(s.elapsed().as_secs_f64() * 1e3);
        c.push(ev.times.compile.as_secs_f64() * 1e3);
        l.push(ev.times.link.as_secs_f64() * 1e3);
        r.push(ev.times.run.as_secs_f64() * 1e3);
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    println!(
        "compile {:.2} link {:.2} run {:.2} total {:.2}",
        med(c),
        med(l),
        med(r),
        med(tot)
    );
}
