/* A 700-byte buffer on the stack (needs a larger frame). */
/* collection-cflags: -mllvm -bpf-stack-size=1024 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("raw_tp/big")
int big_frame(__u64 *ctx)
{
	char buf[700];
	long n = bpf_probe_read_kernel_str(buf, sizeof(buf), ctx);
	return n + buf[0];
}
char _license[] SEC("license") = "GPL";
