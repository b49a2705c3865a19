/* A counter protected by bpf_spin_lock. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct val { struct bpf_spin_lock lock; __u64 n; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct val); __uint(max_entries, 1); } counter SEC(".maps");
SEC("tc")
int locked(struct __sk_buff *skb)
{
	__u32 k = 0;
	struct val *v = bpf_map_lookup_elem(&counter, &k);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->n++;
	bpf_spin_unlock(&v->lock);
	return 0;
}
char _license[] SEC("license") = "GPL";
