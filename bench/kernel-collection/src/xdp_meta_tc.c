/* XDP stores a mark in the metadata area; a tc program reads it. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int set_meta(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32)))
		return XDP_PASS;
	void *data = (void *)(long)ctx->data;
	__u32 *meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > data)
		return XDP_PASS;
	*meta = 0x2a;
	return XDP_PASS;
}
SEC("tc")
int read_meta(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	__u32 *meta = (void *)(long)skb->data_meta;
	if ((void *)(meta + 1) > data)
		return TC_ACT_OK;
	skb->mark = *meta;
	return TC_ACT_OK;
}
char _license[] SEC("license") = "GPL";
