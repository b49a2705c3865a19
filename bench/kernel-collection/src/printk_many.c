/* bpf_printk with up to three arguments, and more (bpf_trace_vprintk). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("raw_tp/printk")
int printk(__u64 *ctx)
{
	bpf_printk("three: %d %u %x", 1, 2, 0x30);
	bpf_printk("five: %d %d %d %d %s", 1, 2, 3, 4, "end");
	return 0;
}
char _license[] SEC("license") = "GPL";
