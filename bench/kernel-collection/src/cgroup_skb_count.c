/* Counts egress bytes of a cgroup; allows everything. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u64 egress_bytes, egress_packets;
SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress_bytes, skb->len);
	__sync_fetch_and_add(&egress_packets, 1);
	return 1;
}
char _license[] SEC("license") = "GPL";
