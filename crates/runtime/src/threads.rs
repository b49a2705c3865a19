//! `<pthread.h>`, `<threads.h>` and `sched_yield`: each helper turns its C
//! arguments into a request to the VM's thread scheduler
//! ([`bpf_vm::threads::SchedOp`]), which carries it out with the calling
//! thread in hand (docs/architecture.md, "Threads"). `<threads.h>` is
//! inline wrappers over these in the header.

use crate::runtime::Imp;
use bpf_vm::threads::SchedOp;
use bpf_vm::HelperError;

macro_rules! sched_table {
    ($($name:literal => |$a:ident| $op:expr,)*) => {
        /// The scheduler's helpers, by C name.
        pub(crate) const HELPERS: &[(&str, Imp)] = &[
            $(($name, |_, _, $a| Err(HelperError::Sched($op))),)*
        ];
    };
}

sched_table! {
    "pthread_create" => |a| SchedOp::Create { id_out: a[0], attr: a[1], func: a[2], arg: a[3] },
    "pthread_join" => |a| SchedOp::Join { thread: a[0], result_out: a[1], width: 8 },
    "__bpf_sched_join32" => |a| SchedOp::Join { thread: a[0], result_out: a[1], width: 4 },
    "pthread_detach" => |a| SchedOp::Detach(a[0]),
    "pthread_self" => |_a| SchedOp::Current,
    "pthread_exit" => |a| SchedOp::Exit(a[0]),
    "sched_yield" => |_a| SchedOp::Yield,
    "__bpf_sched_mutex_init" => |a| SchedOp::MutexInit { mutex: a[0], kind: a[1] },
    "pthread_mutex_lock" => |a| SchedOp::MutexLock(a[0]),
    "pthread_mutex_trylock" => |a| SchedOp::MutexTryLock(a[0]),
    "pthread_mutex_unlock" => |a| SchedOp::MutexUnlock(a[0]),
    "pthread_mutex_destroy" => |a| SchedOp::MutexDestroy(a[0]),
    "pthread_cond_init" => |a| SchedOp::CondInit(a[0]),
    "pthread_cond_destroy" => |a| SchedOp::CondDestroy(a[0]),
    "pthread_cond_wait" => |a| SchedOp::CondWait { cond: a[0], mutex: a[1], abstime: 0 },
    "pthread_cond_timedwait" => |a| SchedOp::CondWait { cond: a[0], mutex: a[1], abstime: a[2] },
    "pthread_cond_signal" => |a| SchedOp::CondSignal(a[0]),
    "pthread_cond_broadcast" => |a| SchedOp::CondBroadcast(a[0]),
    "__bpf_sched_once_begin" => |a| SchedOp::OnceBegin(a[0]),
    "__bpf_sched_once_end" => |a| SchedOp::OnceEnd(a[0]),
    "pthread_rwlock_init" => |a| SchedOp::RwInit(a[0]),
    "pthread_rwlock_rdlock" => |a| SchedOp::RwRead { rwlock: a[0], try_only: false },
    "pthread_rwlock_tryrdlock" => |a| SchedOp::RwRead { rwlock: a[0], try_only: true },
    "pthread_rwlock_wrlock" => |a| SchedOp::RwWrite { rwlock: a[0], try_only: false },
    "pthread_rwlock_trywrlock" => |a| SchedOp::RwWrite { rwlock: a[0], try_only: true },
    "pthread_rwlock_unlock" => |a| SchedOp::RwUnlock(a[0]),
    "pthread_barrier_init" => |a| SchedOp::BarrierInit { barrier: a[0], count: a[2] },
    "pthread_barrier_wait" => |a| SchedOp::BarrierWait(a[0]),
    "pthread_key_create" => |a| SchedOp::KeyCreate { key_out: a[0], destructor: a[1] },
    "pthread_key_delete" => |a| SchedOp::KeyDelete(a[0]),
    "pthread_getspecific" => |a| SchedOp::GetSpecific(a[0]),
    "pthread_setspecific" => |a| SchedOp::SetSpecific { key: a[0], value: a[1] },
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_helper_is_a_scheduler_helper() {
        for (name, _) in super::HELPERS {
            assert!(bpf_vm::threads::is_sched_helper(name), "{name}");
        }
    }
}
