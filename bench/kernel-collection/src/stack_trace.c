/* Samples kernel stacks into a stack-trace map. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_STACK_TRACE); __uint(key_size, 4); __uint(value_size, 127 * 8); __uint(max_entries, 1024); } stacks SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64); __uint(max_entries, 1024); } counts SEC(".maps");
SEC("perf_event")
int sample(void *ctx)
{
	__u32 id = bpf_get_stackid(ctx, &stacks, 0);
	__u64 one = 1;
	bpf_map_update_elem(&counts, &id, &one, BPF_NOEXIST);
	return 0;
}
char _license[] SEC("license") = "GPL";
