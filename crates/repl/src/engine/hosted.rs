//! What a session's C program may reach outside the VM: its standard
//! input (`--stdin FILE`), files in one granted directory (`--fs DIR`) and
//! the clock (`--deterministic-time`). Nothing is granted by default.

use super::ReplOptions;
use bpf_runtime::{InputSource, Runtime, TimeSource};

/// Grants the runtime what the options name.
pub(super) fn grant(runtime: &Runtime, options: &ReplOptions) -> Result<(), String> {
    if let Some(path) = &options.stdin {
        let file =
            std::fs::File::open(path).map_err(|e| format!("--stdin {}: {e}", path.display()))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(format!("--stdin {}: is a directory", path.display()));
        }
        runtime.set_stdin(InputSource::reader(file));
    } else {
        runtime.set_stdin(InputSource::empty());
    }
    if let Some(dir) = &options.fs {
        runtime
            .grant_fs(dir)
            .map_err(|e| format!("--fs {}: {e}", dir.display()))?;
    }
    if options.deterministic_time {
        runtime.set_time_source(TimeSource::DETERMINISTIC);
    }
    Ok(())
}
