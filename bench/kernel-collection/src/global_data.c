/* libbpf-style global data: .rodata config, .data and .bss state. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile __u32 threshold = 100;
const char greeting[] = "hello";
__u64 total = 5;
__u64 over;
static __u64 calls;
SEC("xdp")
int global_data(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	total += len;
	calls++;
	if (len > threshold)
		over++;
	return greeting[0] == 'h' ? XDP_PASS : XDP_DROP;
}
char _license[] SEC("license") = "GPL";
