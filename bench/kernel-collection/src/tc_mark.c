/* Sets skb->mark and priority by destination port, keeps state in cb[]. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
SEC("classifier")
int mark_by_port(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > end || skb->protocol != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_TCP)
		return TC_ACT_UNSPEC;
	skb->cb[0] = bpf_ntohs(tcp->dest);
	skb->mark = skb->cb[0] == 22 ? 0x10 : 0x20;
	skb->priority = skb->len > 1000;
	return TC_ACT_OK;
}
char _license[] SEC("license") = "GPL";
