/* BPF-to-BPF calls to non-inlined functions. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static __noinline __u64 fib(__u32 n)
{
	__u64 a = 0, b = 1;
	for (__u32 i = 0; i < n && i < 90; i++) {
		__u64 t = a + b;
		a = b;
		b = t;
	}
	return a;
}
__noinline int add3(int a, int b, int c) { return a + b + c; }
SEC("raw_tp/sub")
int subprogs(void *ctx)
{
	return fib(20) + add3(1, 2, 3);
}
char _license[] SEC("license") = "GPL";
