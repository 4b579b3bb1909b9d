//! Link flags of the `corral` binary. Every `corral oci` command (and the
//! `corral-oci` link that podman and containerd run) is a fresh process,
//! so its start is part of each container's lifecycle: pack the binary's
//! ~29,000 relative relocations as DT_RELR (glibc 2.36, binutils 2.38 or
//! later) instead of 24-byte RELA entries, so the loader reads a few KiB
//! instead of 700 KiB before `main`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux-gnu") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
