/* Reads the running kernel's version (__kconfig). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern __u32 LINUX_KERNEL_VERSION __kconfig;
SEC("raw_tp/version")
int version(void *ctx) { return LINUX_KERNEL_VERSION >> 16; }
char _license[] SEC("license") = "GPL";
