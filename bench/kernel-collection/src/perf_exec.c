/* Sends an event per exec through a perf event array. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct exec_event { __u32 pid; __u32 uid; char comm[16]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} execs SEC(".maps");
SEC("tp/syscalls/sys_enter_execve")
int on_exec(void *ctx)
{
	struct exec_event e = {};
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.uid = bpf_get_current_uid_gid();
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_perf_event_output(ctx, &execs, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
char _license[] SEC("license") = "GPL";
