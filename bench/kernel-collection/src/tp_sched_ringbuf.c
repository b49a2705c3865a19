/* A tracepoint sending records through a ring buffer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct switch_args {
	__u64 pad;
	char prev_comm[16];
	int prev_pid;
	int prev_prio;
	long prev_state;
	char next_comm[16];
	int next_pid;
	int next_prio;
};
struct event { int prev, next; __u64 ts; };
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");
SEC("tracepoint/sched/sched_switch")
int on_switch(struct switch_args *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->prev = ctx->prev_pid;
	e->next = ctx->next_pid;
	e->ts = bpf_ktime_get_ns();
	if (e->prev == e->next)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
char _license[] SEC("license") = "GPL";
