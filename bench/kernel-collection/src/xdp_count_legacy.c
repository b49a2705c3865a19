/* samples/bpf style: a legacy map definition, per-CPU counters. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_map_def SEC("maps") rxcnt = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(long),
	.max_entries = 256,
};
SEC("xdp1")
int xdp_prog1(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 key = end - data > 255 ? 255 : end - data;
	long *v = bpf_map_lookup_elem(&rxcnt, &key);
	if (v)
		*v += 1;
	return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
