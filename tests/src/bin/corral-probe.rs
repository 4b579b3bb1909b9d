//! The probe: a small program tests run inside limits and containers to
//! exercise them and report what happened, one line of `key=value` pairs.
//!
//! `corral-probe [--cgroup DIR] VERB ARGS`; with `--cgroup` it first moves
//! itself into that cgroup v2 directory.
//!
//! Verbs: `alloc MIB` touches MIB MiB of memory; `forks N` forks up to N
//! sleeping children and reports how many the kernel allowed; `spin SECS`
//! burns CPU for SECS wall seconds and reports its CPU time;
//! `write-direct PATH MIB` writes MIB MiB with O_DIRECT and reports the rate.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::process::exit;
use std::time::{Duration, Instant};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--cgroup") {
        let dir = args.get(1).cloned().unwrap_or_else(|| usage());
        fs::write(
            format!("{dir}/cgroup.procs"),
            std::process::id().to_string(),
        )
        .unwrap_or_else(|e| fail(&format!("joining cgroup {dir}: {e}")));
        args.drain(..2);
    }
    let verb = args.first().cloned().unwrap_or_else(|| usage());
    let num = |i: usize| -> u64 {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| usage())
    };
    match verb.as_str() {
        "alloc" => alloc(num(1)),
        "forks" => forks(num(1)),
        "spin" => spin(num(1)),
        "write-direct" => write_direct(args.get(1).cloned().unwrap_or_else(|| usage()), num(2)),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: corral-probe [--cgroup DIR] alloc MIB | forks N | spin SECS | write-direct PATH MIB"
    );
    exit(2)
}

fn fail(msg: &str) -> ! {
    eprintln!("corral-probe: {msg}");
    exit(1)
}

fn alloc(mib: u64) {
    let mut chunks = Vec::new();
    for i in 0..mib {
        // Touch every page so the memory is really charged.
        chunks.push(vec![1u8; 1 << 20]);
        if i % 16 == 0 {
            std::hint::black_box(&chunks);
        }
    }
    println!("allocated_mib={}", chunks.len());
}

fn forks(n: u64) {
    let mut children = Vec::new();
    let mut errno = 0;
    for _ in 0..n {
        // SAFETY: the child only calls async-signal-safe functions (pause,
        // _exit) before it is killed.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            loop {
                // SAFETY: pause and _exit are async-signal-safe.
                unsafe { libc::pause() };
            }
        }
        if pid < 0 {
            errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            break;
        }
        children.push(pid);
    }
    for &pid in &children {
        // SAFETY: pid is a child of ours that has not been reaped yet.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    for &pid in &children {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer; pid is our unreaped child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    }
    println!("forked={} errno={errno}", children.len());
}

fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer for clock_gettime.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn spin(secs: u64) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    println!(
        "wall_ms={} cpu_ms={}",
        start.elapsed().as_millis(),
        cpu_time().as_millis()
    );
}

/// A page-aligned buffer, as O_DIRECT requires.
struct Aligned {
    ptr: *mut u8,
    layout: std::alloc::Layout,
}

impl Aligned {
    fn new(len: usize) -> Aligned {
        let layout = std::alloc::Layout::from_size_align(len, 4096).unwrap();
        // SAFETY: layout has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "out of memory");
        Aligned { ptr, layout }
    }

    fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr points to layout.size() initialised bytes owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.layout.size()) }
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        // SAFETY: ptr was allocated with this layout and is freed once.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) };
    }
}

fn write_direct(path: String, mib: u64) {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(&path)
        .unwrap_or_else(|e| fail(&format!("opening {path} with O_DIRECT: {e}")));
    let buf = Aligned::new(256 << 10);
    let start = Instant::now();
    let mut written = 0u64;
    while written < mib << 20 {
        file.write_all(buf.as_slice())
            .unwrap_or_else(|e| fail(&format!("writing {path}: {e}")));
        written += buf.as_slice().len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "bytes={written} secs={secs:.3} bytes_per_sec={:.0}",
        written as f64 / secs
    );
}
