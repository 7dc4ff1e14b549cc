//! A CPU quota for one process, through a cgroup of its own (v2 `cpu.max`
//! or v1 `cpu.cfs_quota_us`). The overload case uses it to set the engine's
//! sustainable rate low enough that one publisher on this box can offer 5x
//! it: the engine's flow control is what is tested, not the box's speed.

use std::path::{Path, PathBuf};

const PERIOD_US: u64 = 100_000;

/// The cgroup; removed (after moving its processes back to the root) on drop.
pub struct CpuQuota {
    dir: PathBuf,
    root_procs: PathBuf,
}

impl CpuQuota {
    /// A cgroup that gives its processes `share` of one core at most, or why
    /// none could be made (it needs a writable cgroup file system, as root).
    pub fn new(name: &str, share: f64) -> Result<CpuQuota, String> {
        let quota = ((share * PERIOD_US as f64) as u64).max(1000);
        let v2 = PathBuf::from("/sys/fs/cgroup");
        if std::fs::read_to_string(v2.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"))
        {
            let dir = v2.join(name);
            make(&dir)?;
            write(&dir.join("cpu.max"), &format!("{quota} {PERIOD_US}"))?;
            return Ok(CpuQuota { dir, root_procs: v2.join("cgroup.procs") });
        }
        let v1 = PathBuf::from("/sys/fs/cgroup/cpu");
        let dir = v1.join(name);
        make(&dir)?;
        write(&dir.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
        write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
        Ok(CpuQuota { dir, root_procs: v1.join("cgroup.procs") })
    }

    /// Moves process `pid` (all its threads) into the cgroup.
    pub fn add(&self, pid: u32) -> Result<(), String> {
        write(&self.dir.join("cgroup.procs"), &pid.to_string())
    }

    /// Moves process `pid` back to the root cgroup: no quota any more.
    pub fn release(&self, pid: u32) {
        let _ = std::fs::write(&self.root_procs, pid.to_string());
    }
}

impl Drop for CpuQuota {
    fn drop(&mut self) {
        let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.split_whitespace().filter_map(|p| p.parse().ok()) {
            self.release(pid);
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn make(dir: &Path) -> Result<(), String> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create the cgroup {}: {e}", dir.display())),
    }
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value).map_err(|e| format!("cannot write {value:?} to {}: {e}", path.display()))
}
