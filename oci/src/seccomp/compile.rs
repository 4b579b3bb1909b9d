//! Compiling an OCI seccomp profile into a [`SeccompProgram`]: the checked
//! [`Plan`](super::plan::Plan) is fed to libseccomp (architectures, rules) and
//! the BPF it generates is read back. Runs in the runtime, never in the
//! container child.

use oci_spec::runtime::LinuxSeccomp;

use super::error::SeccompError;
use super::libseccomp::{self, Filter};
use super::plan::{self, Plan, ROOT, Rule};
use super::program::{MAX_INSTRUCTIONS, SeccompProgram};

/// Turns `profile` into a BPF program and the flags to install it with.
///
/// Unknown syscall names are skipped (listed in
/// [`SeccompProgram::skipped_syscalls`]); every other problem — an errno out
/// of range, an argument index over 5, an architecture this libseccomp does
/// not know, SCMP_ACT_NOTIFY without `listenerPath` — is an error naming the
/// field, e.g. `linux.seccomp.syscalls[3].errnoRet`. Fails too when
/// libseccomp.so.2 cannot be loaded.
pub fn compile(profile: &LinuxSeccomp) -> Result<SeccompProgram, SeccompError> {
    let plan = plan::plan(profile)?;
    let mut filter = Filter::new(plan.default_action)?.ok_or_else(|| {
        SeccompError::invalid(
            format!("{ROOT}.defaultAction"),
            format!(
                "libseccomp refused {} as the default action (is it supported by this \
                 kernel?)",
                profile.default_action()
            ),
        )
    })?;
    add_arches(&mut filter, &plan)?;
    let mut skipped = Vec::new();
    for rule in &plan.rules {
        if !add_rule(&mut filter, rule)? {
            skipped.push(rule.name.clone());
        }
    }
    let bpf = filter.export().map_err(SeccompError::Export)?;
    if bpf.len() > MAX_INSTRUCTIONS {
        return Err(SeccompError::TooLarge {
            len: bpf.len(),
            max: MAX_INSTRUCTIONS,
        });
    }
    Ok(SeccompProgram::new(bpf, plan.flags, plan.listener, skipped))
}

fn add_arches(filter: &mut Filter, plan: &Plan) -> Result<(), SeccompError> {
    for (path, name) in &plan.arches {
        let token = filter.arch_token(name).ok_or_else(|| {
            let version = libseccomp::version().unwrap_or_else(|_| "?".into());
            SeccompError::invalid(
                path.clone(),
                format!(
                    "architecture {name} is unknown to the loaded libseccomp {version}; remove \
                     it or upgrade libseccomp2"
                ),
            )
        })?;
        filter
            .add_arch(token)
            .map_err(|source| SeccompError::Libseccomp {
                path: path.clone(),
                call: "seccomp_arch_add",
                source,
            })?;
    }
    Ok(())
}

/// Adds the rules of one syscall name; false when libseccomp does not know
/// the name (the rule is skipped).
fn add_rule(filter: &mut Filter, rule: &Rule) -> Result<bool, SeccompError> {
    let Some(nr) = filter.syscall(&rule.name) else {
        return Ok(false);
    };
    for conds in &rule.conditions {
        filter
            .add_rule(rule.action, nr, conds)
            .map_err(|source| SeccompError::Libseccomp {
                path: format!("{} ({})", rule.path, rule.name),
                call: "seccomp_rule_add_array",
                source,
            })?;
    }
    Ok(true)
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;
