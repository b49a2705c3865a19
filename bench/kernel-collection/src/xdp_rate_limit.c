/* Token bucket per source in an LRU hash, timed with bpf_ktime_get_ns. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
struct bucket { __u64 last; __u64 tokens; };
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, struct bucket);
	__uint(max_entries, 4096);
} buckets SEC(".maps");
const volatile __u64 rate_per_sec = 10;
SEC("xdp")
int rate_limit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	__u32 src = ip->saddr;
	__u64 now = bpf_ktime_get_ns();
	struct bucket *b = bpf_map_lookup_elem(&buckets, &src);
	if (!b) {
		struct bucket nb = { now, rate_per_sec - 1 };
		bpf_map_update_elem(&buckets, &src, &nb, BPF_ANY);
		return XDP_PASS;
	}
	__u64 refill = (now - b->last) * rate_per_sec / 1000000000ULL;
	if (refill) {
		b->tokens = b->tokens + refill > rate_per_sec ? rate_per_sec : b->tokens + refill;
		b->last = now;
	}
	if (!b->tokens)
		return XDP_DROP;
	b->tokens--;
	return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
