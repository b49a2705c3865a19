/* sockex3-style parser chain through a program array that the loader
 * fills (no declarative values): jumps fail until slots are set. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");
SEC("socket/1")
int parse_ip(struct __sk_buff *skb)
{
	skb->cb[0] += 1;
	bpf_tail_call(skb, &jmp_table, 2);
	return skb->cb[0];
}
SEC("socket/2")
int parse_tcp(struct __sk_buff *skb)
{
	return skb->cb[0] + 100;
}
SEC("socket/0")
int main_prog(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, 1);
	return 0;
}
char _license[] SEC("license") = "GPL";
