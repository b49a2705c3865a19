/* fentry with CO-RE reads of task_struct (needs kernel BTF). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
struct task_struct { int pid; int tgid; struct task_struct *real_parent; } __attribute__((preserve_access_index));
__u64 seen;
SEC("fentry/wake_up_new_task")
int BPF_PROG(new_task, struct task_struct *p)
{
	int ppid = BPF_CORE_READ(p, real_parent, tgid);
	seen += ppid;
	return 0;
}
char _license[] SEC("license") = "GPL";
