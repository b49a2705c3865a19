/* Drops ICMPv6 echo requests, counts IPv6 packets by hop limit. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u8);
	__type(value, __u64);
	__uint(max_entries, 256);
} by_hops SEC(".maps");
SEC("xdp")
int ipv6_icmp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	__u8 hops = ip6->hop_limit;
	__u64 one = 1, *n = bpf_map_lookup_elem(&by_hops, &hops);
	if (n)
		(*n)++;
	else
		bpf_map_update_elem(&by_hops, &hops, &one, BPF_ANY);
	__u8 *type = (void *)(ip6 + 1);
	if (ip6->nexthdr == IPPROTO_ICMPV6 && (void *)(type + 1) <= end && *type == 128)
		return XDP_DROP;
	return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
