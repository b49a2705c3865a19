/* Truncates packets to 64 bytes (bpf_xdp_adjust_tail). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp.frags")
int truncate64(struct xdp_md *ctx)
{
	int len = ctx->data_end - ctx->data;
	if (len > 64 && bpf_xdp_adjust_tail(ctx, 64 - len))
		return XDP_ABORTED;
	return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
