/* Latency histogram (log2 buckets) of a kernel function. */
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 10240);
} start SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} hist SEC(".maps");
static __always_inline __u32 log2l(__u64 v)
{
	__u32 r = 0;
	for (int i = 0; i < 63 && v > 1; i++) {
		v >>= 1;
		r++;
	}
	return r;
}
SEC("kprobe/vfs_read")
int BPF_KPROBE(read_enter)
{
	__u32 tid = bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}
SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(read_exit, long ret)
{
	__u32 tid = bpf_get_current_pid_tgid();
	__u64 *ts = bpf_map_lookup_elem(&start, &tid);
	if (!ts)
		return 0;
	__u32 slot = log2l(bpf_ktime_get_ns() - *ts);
	__u64 *n = bpf_map_lookup_elem(&hist, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
	bpf_map_delete_elem(&start, &tid);
	return 0;
}
char _license[] SEC("license") = "GPL";
