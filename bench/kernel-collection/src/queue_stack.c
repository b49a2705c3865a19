/* Queue and stack maps. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __type(value, __u64); __uint(max_entries, 16); } q SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK); __type(value, __u64); __uint(max_entries, 16); } st SEC(".maps");
SEC("raw_tp/qs")
int qs(void *ctx)
{
	for (__u64 i = 1; i <= 5; i++) {
		bpf_map_push_elem(&q, &i, 0);
		bpf_map_push_elem(&st, &i, 0);
	}
	__u64 a = 0, b = 0;
	bpf_map_pop_elem(&q, &a);
	bpf_map_peek_elem(&st, &b);
	return a * 10 + b;
}
char _license[] SEC("license") = "GPL";
