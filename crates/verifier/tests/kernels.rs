//! Speed mode on the clang-built benchmark kernels of `bpf-vm`
//! (`crates/vm/fixtures/kernels`): how many memory accesses are proven.

use bpf_verifier::{functions_from_calls, prove, Limits, Program, SpeedEnv};

macro_rules! kernel {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../vm/fixtures/kernels/", $name, ".v4.bin")) as &[u8],
        )
    };
}

const KERNELS: [(&str, &[u8]); 7] = [
    kernel!("sum_loop"),
    kernel!("fib"),
    kernel!("sieve"),
    kernel!("fnv1a"),
    kernel!("switch_loop"),
    kernel!("sdiv"),
    kernel!("atomics"),
];

#[test]
fn benchmark_kernels_accesses_proven() {
    let env = SpeedEnv {
        frame_size: 512,
        max_call_depth: 8,
        extents: vec![],
    };
    let mut total = (0, 0);
    for (name, bytes) in KERNELS {
        let code = bpf_vm::isa::decode(bytes).unwrap();
        let p = Program {
            code: &code,
            base: 0,
            functions: functions_from_calls(&code, 0),
        };
        let proofs = prove(&p, &env, Limits::default());
        assert!(proofs.complete, "{name}: analysis incomplete");
        println!(
            "{name:<12} {:>3} insns {:>3} accesses {:>3} proven ({} steps, {:?})",
            code.len(),
            proofs.accesses,
            proofs.proven.len(),
            proofs.steps,
            proofs.time
        );
        total.0 += proofs.accesses;
        total.1 += proofs.proven.len();
    }
    println!("total: {} of {} accesses proven", total.1, total.0);
}
