//! Seccomp: compiles an OCI seccomp profile to a BPF program in the parent
//! (through libseccomp, loaded at run time) and installs it in the child
//! without allocating.
