/* bpf_loop and bpf_for_each_map_elem with callbacks. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 32);
} vals SEC(".maps");
static int fill(__u32 i, void *ctx)
{
	__u64 v = i * 3;
	bpf_map_update_elem(&vals, &i, &v, BPF_ANY);
	return 0;
}
static long add(void *map, __u32 *k, __u64 *v, __u64 *sum)
{
	*sum += *v;
	return 0;
}
SEC("raw_tp/loop")
int loops(void *ctx)
{
	__u64 sum = 0;
	bpf_loop(32, fill, 0, 0);
	bpf_for_each_map_elem(&vals, add, &sum, 0);
	return sum;
}
char _license[] SEC("license") = "GPL";
