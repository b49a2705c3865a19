//! Values in words, for findings: `packet pointer data+14 (14 bytes
//! checked)`, `value of map `counts` or NULL`, `number in 0..=255`.

use crate::engine::{Analyzer, Mode};
use crate::scalar::Scalar;
use crate::state::State;
use crate::value::{Base, Ptr, Value};

fn offset(p: &Ptr) -> String {
    let var = p.var;
    match var.as_const() {
        Some(c) => {
            let o = p.fixed.wrapping_add(c as i64);
            if o == 0 {
                String::new()
            } else if o > 0 {
                format!("+{o}")
            } else {
                format!("{o}")
            }
        }
        None => {
            let f = if p.fixed == 0 {
                String::new()
            } else {
                format!("{:+}", p.fixed)
            };
            format!("{f}+({})", number(var))
        }
    }
}

fn number(s: Scalar) -> String {
    s.to_string()
}

/// One value, in words.
pub(crate) fn value(an: &Analyzer, st: &State, v: &Value) -> String {
    match v {
        Value::Uninit => "not initialised".to_string(),
        Value::Any => "a pointer on some paths, something else on others".to_string(),
        Value::Scalar(_, link) if an.released_by(link.id).is_some() => format!(
            "a number: what is left of the pointer to memory reserved at instruction {}, released since",
            an.released_by(link.id).unwrap_or_default()
        ),
        Value::Scalar(s, _) => match s.as_const() {
            Some(_) => format!("the number {s}"),
            None if s.is_top() => "an unknown number".to_string(),
            None => format!("a number in {s}"),
        },
        Value::Ptr(p) => {
            let or_null = if p.nullable {
                " or NULL (not checked yet)"
            } else {
                ""
            };
            let o = offset(p);
            match p.base {
                Base::Stack(f) => {
                    let whose = if f as usize + 1 == st.frames.len() {
                        String::new()
                    } else {
                        let func = st.frames.get(f as usize).map(|fr| fr.func);
                        match func.and_then(|i| an.prog.functions.get(i)) {
                            Some(func) => format!(" of `{}`", func.name),
                            None => String::new(),
                        }
                    };
                    format!(
                        "stack pointer r10{}{whose}",
                        if o.is_empty() { "+0".to_string() } else { o }
                    )
                }
                Base::Ctx => {
                    let ty = match an.mode {
                        Mode::Kernel { ctx, .. } => ctx.c_type,
                        Mode::Speed(_) => "context",
                    };
                    format!("context pointer ({ty} *){}", o)
                }
                Base::Packet => {
                    let known = if p.id != 0 {
                        st.packet_range(p.id)
                    } else {
                        st.packet_range(0)
                    };
                    format!("packet pointer data{o} ({known} bytes after data{} checked against data_end)",
                        if p.id != 0 && p.var.as_const().is_none() { "+variable part" } else { "" })
                }
                Base::PacketMeta => format!("packet metadata pointer data_meta{o}"),
                Base::PacketEnd => format!("data_end{o}"),
                Base::MapValue(m) => {
                    let (name, size) = an
                        .kernel()
                        .and_then(|k| k.maps.get(m as usize))
                        .map(|m| (m.name.clone(), m.def.value_size))
                        .unwrap_or_default();
                    format!("pointer to a value of map `{name}` ({size} bytes){o}{or_null}")
                }
                Base::Map(m) => {
                    let name = an
                        .kernel()
                        .and_then(|k| k.maps.get(m as usize))
                        .map(|m| m.name.clone())
                        .unwrap_or_default();
                    format!("map `{name}`")
                }
                Base::Alloc(n) => format!("reserved memory ({n} bytes){o}{or_null}"),
                Base::MapKey(m) => {
                    let (name, size) = an
                        .kernel()
                        .and_then(|k| k.maps.get(m as usize))
                        .map(|m| (m.name.clone(), m.def.key_size))
                        .unwrap_or_default();
                    format!("pointer to a key of map `{name}` ({size} bytes){o}")
                }
                Base::Func(f) => format!(
                    "function `{}`",
                    an.prog
                        .functions
                        .get(f as usize)
                        .map_or("?", |f| f.name.as_str())
                ),
            }
        }
    }
}
