/* Redirects by ingress interface through a devmap. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 64);
} ports SEC(".maps");
SEC("xdp")
int redirect_port(struct xdp_md *ctx)
{
	return bpf_redirect_map(&ports, ctx->ingress_ifindex, XDP_PASS);
}
SEC("xdp")
int redirect_if(struct xdp_md *ctx)
{
	return bpf_redirect(ctx->ingress_ifindex + 1, 0);
}
char _license[] SEC("license") = "GPL";
