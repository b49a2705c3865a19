/* Rewrites a TCP port and fixes the checksum (bpf_l4_csum_replace). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#define TCP_DPORT_OFF (ETH_HLEN + sizeof(struct iphdr) + offsetof(struct tcphdr, dest))
#define TCP_CSUM_OFF (ETH_HLEN + sizeof(struct iphdr) + offsetof(struct tcphdr, check))
SEC("tc")
int rewrite(struct __sk_buff *skb)
{
	__be16 old, new = bpf_htons(8080);
	if (bpf_skb_load_bytes(skb, TCP_DPORT_OFF, &old, sizeof(old)) < 0 || old != bpf_htons(80))
		return TC_ACT_OK;
	bpf_l4_csum_replace(skb, TCP_CSUM_OFF, old, new, sizeof(new));
	bpf_skb_store_bytes(skb, TCP_DPORT_OFF, &new, sizeof(new), 0);
	return TC_ACT_OK;
}
char _license[] SEC("license") = "GPL";
