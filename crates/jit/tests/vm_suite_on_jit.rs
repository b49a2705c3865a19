//! The VM's own test suites — RFC 9669 conformance (`isa.rs`), hostile
//! programs (`hostile.rs`), the pre-decoded code's observable behaviour
//! (`predecoded.rs`), the clang-built kernels (`kernels.rs`), what a host
//! plugs in (`host.rs`: callbacks, tail calls, devices, LD_ABS/LD_IND),
//! `setjmp`/`longjmp` and runtime callback helpers (`setjmp.rs`) and the
//! alloca region's lifetime (`alloca_region.rs`) — run
//! unchanged with every VM on the JIT (`jit`: everything compiled before
//! it runs). Their expected values are the interpreter's semantics.

#[ctor::ctor(unsafe)]
fn every_vm_on_the_jit() {
    bpf_vm::exec::set_default_engine(|| {
        Some(Box::new(
            bpf_jit::Jit::new(bpf_jit::EngineKind::Jit).expect("this host has a JIT"),
        ))
    });
}

#[path = "../../vm/tests/alloca_region.rs"]
mod alloca_region;
#[path = "../../vm/tests/host.rs"]
mod host;
#[path = "../../vm/tests/hostile.rs"]
mod hostile;
#[path = "../../vm/tests/isa.rs"]
mod isa;
#[path = "../../vm/tests/kernels.rs"]
mod kernels;
#[path = "../../vm/tests/predecoded.rs"]
mod predecoded;
#[path = "../../vm/tests/setjmp.rs"]
mod setjmp;

#[test]
fn the_suites_really_run_on_the_jit() {
    let vm = bpf_vm::Vm::default();
    assert_eq!(bpf_jit::engine_name(&vm), "jit");
}
