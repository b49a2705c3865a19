/* Atomic read-modify-write operations (fetch forms need -mcpu=v3). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u64 add, or_bits, xchg_old, cmp;
__u32 add32;
SEC("raw_tp/atomics")
int atomics(void *ctx)
{
	__u64 old = __sync_fetch_and_add(&add, 5);
	__sync_fetch_and_or(&or_bits, 0x10);
	__sync_fetch_and_add(&add32, 1);
	xchg_old = __sync_lock_test_and_set(&cmp, 7);
	__sync_val_compare_and_swap(&cmp, 7, 9);
	return old + cmp;
}
char _license[] SEC("license") = "GPL";
