/* A socket filter that keeps DNS queries, parsed with legacy loads. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
SEC("socket")
int dns_only(struct __sk_buff *skb)
{
	if (load_half(skb, 12) != ETH_P_IP || load_byte(skb, 23) != IPPROTO_UDP)
		return 0;
	__u32 l4 = ETH_HLEN + ((load_byte(skb, ETH_HLEN) & 0xf) << 2);
	if (load_half(skb, l4 + 2) != 53)
		return 0;
	__u32 flags = load_half(skb, l4 + 8 + 2);
	return flags & 0x8000 ? 0 : skb->len;
}
char _license[] SEC("license") = "GPL";
