//! Running the agent's own binary (the command executor) inside an image
//! that has none of the host's libraries: when the binary is dynamically
//! linked, its program interpreter and the libraries it loads are bound
//! read-only, one file each, into `/run/corral/lib` of the container, and
//! the executor is started through that interpreter
//! (`ld.so --library-path /run/corral/lib --inhibit-cache EXECUTOR ...`),
//! so nothing of the image's own `/lib` or `ld.so.cache` is used for it and
//! the task's command, which the executor then execs, uses only the
//! image's. A static binary needs none of this.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Where the host's loader and libraries appear in image containers.
pub const LIB_DIR: &str = "/run/corral/lib";

/// The executor's loader and libraries on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLoader {
    /// The program interpreter (PT_INTERP), e.g. /lib64/ld-linux-x86-64.so.2.
    pub interpreter: PathBuf,
    /// The libraries it loads, resolved on the host.
    pub libraries: Vec<PathBuf>,
}

/// How much of the binary is read for its program headers.
const HEADERS: u64 = 64 << 10;

/// Why the executor's libraries could not be found.
#[derive(Debug, thiserror::Error)]
pub enum LoaderError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a 64-bit little-endian ELF executable")]
    NotElf { path: PathBuf },
    #[error("listing the libraries of {path} with {interpreter} --list: {message}")]
    List {
        path: PathBuf,
        interpreter: PathBuf,
        message: String,
    },
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?).into())
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?).into())
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The PT_INTERP path of a 64-bit little-endian ELF image (`Ok(None)`: a
/// static binary); `Err(())` when `elf` is not one.
#[allow(clippy::result_unit_err)]
pub fn interpreter(elf: &[u8]) -> Result<Option<PathBuf>, ()> {
    if elf.get(..4) != Some(b"\x7fELF") || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return Err(());
    }
    let phoff = u64_at(elf, 0x20).ok_or(())? as usize;
    let phentsize = u16_at(elf, 0x36).ok_or(())? as usize;
    let phnum = u16_at(elf, 0x38).ok_or(())? as usize;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(elf, ph).ok_or(())? != 3 {
            continue;
        }
        let off = u64_at(elf, ph + 8).ok_or(())? as usize;
        let size = u64_at(elf, ph + 32).ok_or(())? as usize;
        let raw = elf.get(off..off + size).ok_or(())?;
        let path = raw.split(|b| *b == 0).next().unwrap_or_default();
        let text = std::str::from_utf8(path).map_err(|_| ())?;
        return Ok(Some(PathBuf::from(text)));
    }
    Ok(None)
}

/// The library paths in `ld.so --list` output (`name => /path (addr)` and
/// `/path (addr)` lines; the vDSO has no file); `Err` names a library
/// that was not found.
pub fn parse_list(text: &str) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let target = line.split_once("=>").map_or(line, |(_, t)| t.trim());
        if target.starts_with("not found") {
            return Err(line.to_string());
        }
        if let Some(path) = target
            .split_whitespace()
            .next()
            .filter(|p| p.starts_with('/'))
        {
            out.push(PathBuf::from(path));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl HostLoader {
    /// What `executor` needs (`None` for a static binary).
    pub fn probe(executor: &Path) -> Result<Option<HostLoader>, LoaderError> {
        // The headers and the interpreter's path sit at the file's start;
        // the binary itself can be hundreds of MiB (debug builds).
        let mut bytes = Vec::new();
        std::fs::File::open(executor)
            .and_then(|f| std::io::Read::take(f, HEADERS).read_to_end(&mut bytes))
            .map_err(|source| LoaderError::Read {
                path: executor.into(),
                source,
            })?;
        let Some(interp) = interpreter(&bytes).map_err(|()| LoaderError::NotElf {
            path: executor.into(),
        })?
        else {
            return Ok(None);
        };
        let list_err = |message: String| LoaderError::List {
            path: executor.into(),
            interpreter: interp.clone(),
            message,
        };
        let out = std::process::Command::new(&interp)
            .arg("--list")
            .arg(executor)
            .output()
            .map_err(|e| list_err(e.to_string()))?;
        if !out.status.success() {
            return Err(list_err(String::from_utf8_lossy(&out.stderr).into_owned()));
        }
        let libraries = parse_list(&String::from_utf8_lossy(&out.stdout)).map_err(list_err)?;
        Ok(Some(HostLoader {
            interpreter: interp,
            libraries,
        }))
    }

    /// The interpreter's path in the container.
    pub fn interpreter_in_container(&self) -> String {
        in_lib_dir(&self.interpreter)
    }

    /// The argv prefix that starts a binary through the bound interpreter.
    pub fn argv_prefix(&self) -> Vec<String> {
        vec![
            self.interpreter_in_container(),
            "--library-path".into(),
            LIB_DIR.into(),
            "--inhibit-cache".into(),
        ]
    }

    /// (host file, container path) of every file to bind.
    pub fn binds(&self) -> Vec<(PathBuf, String)> {
        let mut v: Vec<(PathBuf, String)> = std::iter::once(&self.interpreter)
            .chain(&self.libraries)
            .map(|p| (p.clone(), in_lib_dir(p)))
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v.dedup_by(|a, b| a.1 == b.1);
        v
    }
}

fn in_lib_dir(p: &Path) -> String {
    format!(
        "{LIB_DIR}/{}",
        p.file_name().unwrap_or_default().to_string_lossy()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ld_so_list_output_is_parsed() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\
            \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f0c)\n\
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0a)\n\
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f0b)\n";
        assert_eq!(
            parse_list(text).unwrap(),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
        assert!(parse_list("libfoo.so => not found\n").is_err());
    }

    #[test]
    fn the_agents_own_binary_is_probed() {
        // The test binary is linked like the agent.
        let exe = std::env::current_exe().unwrap();
        let bytes = std::fs::read(&exe).unwrap();
        let interp = interpreter(&bytes).unwrap();
        match HostLoader::probe(&exe).unwrap() {
            Some(l) => {
                assert_eq!(Some(l.interpreter.clone()), interp);
                assert!(
                    l.libraries
                        .iter()
                        .any(|p| p.to_string_lossy().contains("libc.so"))
                );
                let binds = l.binds();
                assert!(binds.iter().all(|(_, c)| c.starts_with("/run/corral/lib/")));
                assert_eq!(l.argv_prefix()[1], "--library-path");
            }
            None => assert_eq!(interp, None),
        }
        assert!(interpreter(b"#!/bin/sh\n").is_err());
    }
}
