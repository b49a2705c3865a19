/* Calls kfuncs (kernel functions through __ksym). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct task_struct;
extern struct task_struct *bpf_task_from_pid(int pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
SEC("syscall")
int find_task(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	if (!t)
		return 0;
	bpf_task_release(t);
	return 1;
}
char _license[] SEC("license") = "GPL";
