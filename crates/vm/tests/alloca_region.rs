//! The alloca region (VLAs and `alloca`, docs/abi.md) lives for one run:
//! whatever a run left there is gone when the next one starts.

use bpf_vm::isa::asm::*;
use bpf_vm::{RegionKind, Vm};

#[test]
fn alloca_region_is_released_after_every_run() {
    let mut vm = Vm::default();
    // A helper that allocates r1 bytes in the alloca region, as __bpf_alloca does.
    vm.register_helper(
        1,
        "grow",
        Box::new(|mem, a| Ok(mem.alloc(RegionKind::Alloca, a[0] as usize, 8)?)),
    );
    let entry = vm.load_code(&[call_helper(1), exit()]).unwrap();
    let p = vm.call(entry, &[64]).unwrap();
    assert_eq!(p, RegionKind::Alloca.base());
    assert_eq!(vm.mem.region_len(RegionKind::Alloca), 0);
    assert!(vm.mem.load(p, 8).is_err());
    // A run that faults releases it too.
    vm.register_helper(
        2,
        "grow_then_fail",
        Box::new(|mem, _| {
            mem.alloc(RegionKind::Alloca, 16, 8)?;
            Err(bpf_vm::HelperError::Fault("stop".into()))
        }),
    );
    let entry = vm.load_code(&[call_helper(2), exit()]).unwrap();
    assert!(vm.call(entry, &[]).is_err());
    assert_eq!(vm.mem.region_len(RegionKind::Alloca), 0);
}
