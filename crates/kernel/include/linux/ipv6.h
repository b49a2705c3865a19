/* IPv6 header (bpf-repl's own). */
#ifndef _IPV6_H
#define _IPV6_H

#include <linux/types.h>
#include <linux/in6.h>

struct ipv6hdr {
	__u8	priority:4,
		version:4;
	__u8	flow_lbl[3];
	__be16	payload_len;
	__u8	nexthdr;
	__u8	hop_limit;
	struct	in6_addr saddr;
	struct	in6_addr daddr;
};

#endif
