//! process.execCPUAffinity's `initial` list, for the clone of an exec'd
//! process: the calling thread runs on those CPUs while it clones (the
//! process starts there), then gets its own affinity back.

use crate::launch::LaunchError;

/// Runs `f` (the clone) with the calling thread on the CPUs of `mask`
/// (process.execCPUAffinity.initial: the process starts with it), then
/// puts the thread's own affinity back.
pub(crate) fn with_affinity<T>(
    mask: &crate::plan::affinity::CpuMask,
    f: impl FnOnce() -> Result<T, LaunchError>,
) -> Result<T, LaunchError> {
    // Room for 8192 CPUs, the kernel's largest NR_CPUS.
    let mut own = [0u64; 128];
    // SAFETY: `own` is writable for its size in bytes; pid 0 is this thread.
    let got = unsafe {
        libc::syscall(
            libc::SYS_sched_getaffinity,
            0,
            std::mem::size_of_val(&own),
            own.as_mut_ptr(),
        )
    };
    if got < 0 {
        return Err(LaunchError::Affinity(std::io::Error::last_os_error()));
    }
    let set = |words: &[u64], bytes: usize| {
        // SAFETY: `words` holds at least `bytes` bytes and outlives the call.
        let r = unsafe { libc::syscall(libc::SYS_sched_setaffinity, 0, bytes, words.as_ptr()) };
        if r == -1 {
            Err(LaunchError::Affinity(std::io::Error::last_os_error()))
        } else {
            Ok(())
        }
    };
    set(&mask.0, mask.bytes())?;
    let result = f();
    // The kernel said how many bytes of the mask it wrote.
    set(&own, got as usize)?;
    result
}
