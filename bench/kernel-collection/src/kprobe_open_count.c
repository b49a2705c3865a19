/* Counts opens per task, keyed by pid_tgid, with the task's name. */
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct stat { __u64 count; char comm[16]; };
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct stat);
	__uint(max_entries, 1024);
} opens SEC(".maps");
SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(count_open, int dfd, const char *name)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct stat *s = bpf_map_lookup_elem(&opens, &id);
	if (!s) {
		struct stat fresh = {};
		bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
		bpf_map_update_elem(&opens, &id, &fresh, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&opens, &id);
		if (!s)
			return 0;
	}
	s->count++;
	return 0;
}
char _license[] SEC("license") = "GPL";
