/* An array of maps with a declaratively set inner map. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u32); __uint(max_entries, 1); } inner0 SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = { .values = { [0] = &inner0 } };
SEC("raw_tp/mim")
int mim(void *ctx)
{
	__u32 k = 0;
	void *m = bpf_map_lookup_elem(&outer, &k);
	if (!m)
		return -1;
	__u32 *v = bpf_map_lookup_elem(m, &k);
	return v ? *v : -2;
}
char _license[] SEC("license") = "GPL";
