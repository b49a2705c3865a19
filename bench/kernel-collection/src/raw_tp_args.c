/* A raw tracepoint reading its u64 arguments with BPF_PROG. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
__u64 calls, last_id;
SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter, void *regs, long id)
{
	calls++;
	last_id = id;
	return 0;
}
char _license[] SEC("license") = "GPL";
