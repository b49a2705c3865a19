/* CO-RE reads (compile once, run everywhere), as libbpf's bpf_core_read.h
 * names them. Field accesses carry CO-RE relocations (.BTF.ext) that
 * bpf-jitlink resolves against kernel BTF given with --btf, or refuses by
 * name without it. */
#ifndef __BPF_CORE_READ_H__
#define __BPF_CORE_READ_H__

enum bpf_field_info_kind {
	BPF_FIELD_BYTE_OFFSET = 0,
	BPF_FIELD_BYTE_SIZE = 1,
	BPF_FIELD_EXISTS = 2,
	BPF_FIELD_SIGNED = 3,
	BPF_FIELD_LSHIFT_U64 = 4,
	BPF_FIELD_RSHIFT_U64 = 5,
};

enum bpf_type_id_kind {
	BPF_TYPE_ID_LOCAL = 0,
	BPF_TYPE_ID_TARGET = 1,
};

enum bpf_type_info_kind {
	BPF_TYPE_EXISTS = 0,
	BPF_TYPE_SIZE = 1,
	BPF_TYPE_MATCHES = 2,
};

enum bpf_enum_value_kind {
	BPF_ENUMVAL_EXISTS = 0,
	BPF_ENUMVAL_VALUE = 1,
};

#define bpf_core_field_exists(field...) \
	__builtin_preserve_field_info(field, BPF_FIELD_EXISTS)
#define bpf_core_field_size(field...) \
	__builtin_preserve_field_info(field, BPF_FIELD_BYTE_SIZE)
#define bpf_core_field_offset(field...) \
	__builtin_preserve_field_info(field, BPF_FIELD_BYTE_OFFSET)
#define bpf_core_type_exists(type) \
	__builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_EXISTS)
#define bpf_core_type_size(type) \
	__builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_SIZE)
#define bpf_core_enum_value_exists(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_EXISTS)
#define bpf_core_enum_value(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_VALUE)

#define bpf_core_read(dst, sz, src) \
	bpf_probe_read_kernel(dst, sz, (const void *)__builtin_preserve_access_index(src))

/* BPF_CORE_READ(src, a, b, c): src->a->b->c, each step a CO-RE read. */
#define ___core_read0(dst, src, a) \
	bpf_core_read(&(dst), sizeof(dst), &(src)->a)
#define BPF_CORE_READ1(src, a) \
	({ typeof((src)->a) __r; ___core_read0(__r, src, a); __r; })
#define BPF_CORE_READ2(src, a, b) \
	({ typeof((src)->a) __p = BPF_CORE_READ1(src, a); BPF_CORE_READ1(__p, b); })
#define BPF_CORE_READ3(src, a, b, c) \
	({ typeof((src)->a->b) __q = BPF_CORE_READ2(src, a, b); BPF_CORE_READ1(__q, c); })
#define ___core_pick(_1, _2, _3, N, ...) N
#define BPF_CORE_READ(src, ...) \
	___core_pick(__VA_ARGS__, BPF_CORE_READ3, BPF_CORE_READ2, BPF_CORE_READ1)(src, __VA_ARGS__)

#endif
