/* An sk_msg program (a socket-level context bpf-repl does not emulate). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u64 msgs;
SEC("sk_msg")
int on_msg(struct sk_msg_md *msg)
{
	msgs++;
	return 1;
}
char _license[] SEC("license") = "GPL";
