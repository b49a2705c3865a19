//! Kernel-side externs named for what they are. libbpf fills `__kconfig`
//! variables from the kernel's configuration and binds `__ksym` variables
//! and kfuncs to kernel symbols; bpf-repl has no kernel to ask, so an
//! object that needs one is refused naming the extern and its kind instead
//! of a bare "symbol not found".

use crate::btf::Type;
use crate::error::LinkError;
use crate::graph::LinkGraph;
use crate::maps::object_btf;

/// The refusal for the first of `missing` that an object's BTF declares
/// as a kernel extern, if any is.
pub(crate) fn explain(graphs: &[LinkGraph], missing: &[String]) -> Option<LinkError> {
    for g in graphs {
        let Ok(Some(btf)) = object_btf(g) else {
            continue;
        };
        for (sec, what) in [
            (
                ".kconfig",
                "Kconfig extern (__kconfig), which needs the kernel's configuration",
            ),
            (
                ".ksyms",
                "kernel symbol (__ksym), which needs a running kernel",
            ),
        ] {
            let Some(vars) = btf.datasec(sec) else {
                continue;
            };
            for v in vars {
                let name = match btf.get(v.type_id) {
                    Ok(Type::Var { name, .. } | Type::Func { name, .. }) => name,
                    _ => continue,
                };
                if missing.contains(name) {
                    let what = if matches!(btf.get(v.type_id), Ok(Type::Func { .. })) {
                        "kfunc (a kernel function called through __ksym), which needs a running kernel"
                    } else {
                        what
                    };
                    return Some(LinkError::Unsupported {
                        object: g.name.clone(),
                        place: format!("extern `{name}`"),
                        feature: what.to_string(),
                    });
                }
            }
        }
    }
    None
}

/// The refusal for `name` if an object declares it a `__kconfig` extern.
pub(crate) fn explain_kconfig(graphs: &[LinkGraph], name: &str) -> Option<LinkError> {
    let e = explain(graphs, &[name.to_string()])?;
    match &e {
        LinkError::Unsupported { feature, .. } if feature.starts_with("Kconfig") => Some(e),
        _ => None,
    }
}
