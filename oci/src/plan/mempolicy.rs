//! linux.memoryPolicy turned into the arguments of set_mempolicy(2): the
//! mode with its flags and a node mask parsed from the spec's node list
//! (`0-3,7`), checked up front so a bad value names its field.

use super::PlanError;
use oci_spec::runtime::{LinuxMemoryPolicy, MemoryPolicyFlagType, MemoryPolicyModeType};

/// Node ids the mask holds (the kernel's MAX_NUMNODES is at most 1024).
pub const MAX_NODES: usize = 1024;

/// What set_mempolicy(2) gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemPolicy {
    /// MPOL_* mode or-ed with its MPOL_F_* flags.
    pub mode: i32,
    /// Bit n set for node n.
    pub nodes: [u64; MAX_NODES / 64],
}

fn invalid(field: &str, problem: String) -> PlanError {
    PlanError::Invalid {
        field: format!("linux.memoryPolicy.{field}"),
        problem,
    }
}

/// The set_mempolicy arguments for `p`.
pub fn plan(p: &LinuxMemoryPolicy) -> Result<MemPolicy, PlanError> {
    use MemoryPolicyModeType as M;
    let (mode, needs_nodes, takes_nodes) = match p.mode() {
        M::MpolDefault => (0, false, false),
        M::MpolPreferred => (1, false, true),
        M::MpolBind => (2, true, true),
        M::MpolInterleave => (3, true, true),
        M::MpolLocal => (4, false, false),
        M::MpolPreferredMany => (5, true, true),
        M::MpolWeightedInterleave => (6, true, true),
    };
    let list = p.nodes().as_deref().unwrap_or("").trim();
    let nodes = parse_nodes(list).map_err(|e| invalid("nodes", e))?;
    let any = nodes.iter().any(|w| *w != 0);
    if needs_nodes && !any {
        return Err(invalid(
            "nodes",
            format!("{} needs at least one node", p.mode()),
        ));
    }
    if !takes_nodes && any {
        return Err(invalid(
            "nodes",
            format!("{} takes no nodes: remove them", p.mode()),
        ));
    }
    let mut flags = 0;
    for f in p.flags().iter().flatten() {
        flags |= match f {
            MemoryPolicyFlagType::MpolFNumaBalancing => 1 << 13,
            MemoryPolicyFlagType::MpolFRelativeNodes => 1 << 14,
            MemoryPolicyFlagType::MpolFStaticNodes => 1 << 15,
        };
    }
    if flags & (3 << 14) == 3 << 14 {
        return Err(invalid(
            "flags",
            "MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES exclude each other".into(),
        ));
    }
    Ok(MemPolicy {
        mode: mode | flags,
        nodes,
    })
}

/// Parses a node list such as `0-3,7` into a mask.
fn parse_nodes(list: &str) -> Result<[u64; MAX_NODES / 64], String> {
    let mut mask = [0u64; MAX_NODES / 64];
    if list.is_empty() {
        return Ok(mask);
    }
    for part in list.split(',') {
        let num = |s: &str| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n < MAX_NODES)
                .ok_or_else(|| format!("{list:?}: {s:?} is not a node id below {MAX_NODES}"))
        };
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(part)?, num(part)?),
        };
        if lo > hi {
            return Err(format!("{list:?}: range {part:?} is backwards"));
        }
        for n in lo..=hi {
            mask[n / 64] |= 1 << (n % 64);
        }
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pol(json: &str) -> Result<MemPolicy, String> {
        plan(&serde_json::from_str(json).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn modes_flags_and_node_lists_become_the_syscalls_arguments() {
        let p =
            pol(r#"{"mode":"MPOL_INTERLEAVE","nodes":"0-2,65","flags":["MPOL_F_STATIC_NODES"]}"#)
                .unwrap();
        assert_eq!(p.mode, 3 | 1 << 15);
        assert_eq!(p.nodes[0], 0b111);
        assert_eq!(p.nodes[1], 0b10);
        let p = pol(r#"{"mode":"MPOL_LOCAL"}"#).unwrap();
        assert_eq!(p.mode, 4);
        assert!(p.nodes.iter().all(|w| *w == 0));
    }

    #[test]
    fn bad_policies_name_the_field() {
        let e = pol(r#"{"mode":"MPOL_BIND"}"#).unwrap_err();
        assert!(
            e.contains("linux.memoryPolicy.nodes") && e.contains("MPOL_BIND"),
            "{e}"
        );
        let e = pol(r#"{"mode":"MPOL_DEFAULT","nodes":"0"}"#).unwrap_err();
        assert!(e.contains("linux.memoryPolicy.nodes"), "{e}");
        let e = pol(r#"{"mode":"MPOL_BIND","nodes":"3-1"}"#).unwrap_err();
        assert!(e.contains("backwards"), "{e}");
        let e = pol(r#"{"mode":"MPOL_BIND","nodes":"0,x"}"#).unwrap_err();
        assert!(e.contains("\"x\""), "{e}");
        let e = pol(
            r#"{"mode":"MPOL_BIND","nodes":"0","flags":["MPOL_F_STATIC_NODES","MPOL_F_RELATIVE_NODES"]}"#,
        )
        .unwrap_err();
        assert!(e.contains("linux.memoryPolicy.flags"), "{e}");
    }
}
