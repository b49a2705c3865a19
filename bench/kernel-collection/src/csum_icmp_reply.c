/* Answers ICMP echo requests in XDP, fixing the checksum with bpf_csum_diff. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/icmp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
static __always_inline __u16 fold(__u32 c) { c = (c & 0xffff) + (c >> 16); c += c >> 16; return ~c; }
SEC("xdp")
int icmp_reply(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct icmphdr *icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_ICMP || icmp->type != ICMP_ECHO)
		return XDP_PASS;
	__u32 old = *(__u32 *)icmp;
	icmp->type = ICMP_ECHOREPLY;
	__u32 new = *(__u32 *)icmp;
	icmp->checksum = fold(bpf_csum_diff(&old, 4, &new, 4, ~icmp->checksum & 0xffff));
	__be32 a = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = a;
	return XDP_TX;
}
char _license[] SEC("license") = "GPL";
