/* Blocks sources by prefix with an LPM trie. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
struct lpm_key { __u32 prefixlen; __u32 addr; };
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocklist SEC(".maps");
SEC("xdp")
int lpm_block(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct lpm_key k = { 32, ip->saddr };
	__u32 *hit = bpf_map_lookup_elem(&blocklist, &k);
	if (hit) {
		(*hit)++;
		return XDP_DROP;
	}
	return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
