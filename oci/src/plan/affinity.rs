//! process.execCPUAffinity (for `exec` only: the spec makes it not
//! applicable to the container's init): CPU lists such as `0-3,7` turned
//! into the masks sched_setaffinity(2) takes. `initial` is the runtime's
//! while it clones the process, which starts with it; `final` is set by
//! the process once it is in the container's cgroup. An empty list is
//! absent.

use super::PlanError;
use oci_spec::runtime::ExecCPUAffinity;

/// The highest CPU number accepted (the kernel's NR_CPUS limit is 8192).
const MAX_CPU: usize = 8191;

/// A CPU set as 64-bit words, CPU n at bit n % 64 of word n / 64.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuMask(pub Vec<u64>);

impl CpuMask {
    /// The mask's size in bytes, for sched_setaffinity(2).
    pub fn bytes(&self) -> usize {
        self.0.len() * 8
    }
}

/// Both masks of process.execCPUAffinity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecAffinity {
    pub initial: Option<CpuMask>,
    pub last: Option<CpuMask>,
}

/// Parses a CPU list (`0-3,7`); `field` names it in errors.
pub fn cpu_list(field: &str, text: &str) -> Result<CpuMask, PlanError> {
    let bad = |problem: String| PlanError::Invalid {
        field: field.to_string(),
        problem,
    };
    let cpu = |s: &str| -> Result<usize, PlanError> {
        let n: usize = s.trim().parse().map_err(|_| {
            bad(format!(
                "{s:?} is not a CPU number (the list looks like 0-3,7)"
            ))
        })?;
        if n > MAX_CPU {
            return Err(bad(format!("CPU {n} is past the highest, {MAX_CPU}")));
        }
        Ok(n)
    };
    let mut mask = CpuMask::default();
    for part in text.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (cpu(a)?, cpu(b)?),
            None => (cpu(part)?, cpu(part)?),
        };
        if lo > hi {
            return Err(bad(format!("the range {part:?} runs backwards")));
        }
        for n in lo..=hi {
            if mask.0.len() <= n / 64 {
                mask.0.resize(n / 64 + 1, 0);
            }
            mask.0[n / 64] |= 1 << (n % 64);
        }
    }
    Ok(mask)
}

/// The plan of process.execCPUAffinity.
pub fn plan(a: &ExecCPUAffinity) -> Result<ExecAffinity, PlanError> {
    let list = |field: &str, v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| cpu_list(&format!("process.execCPUAffinity.{field}"), s))
            .transpose()
    };
    Ok(ExecAffinity {
        initial: list("initial", a.initial())?,
        last: list("final", a.cpu_affinity_final())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_become_masks() {
        assert_eq!(cpu_list("f", "0").unwrap(), CpuMask(vec![1]));
        assert_eq!(cpu_list("f", "0-3,7").unwrap(), CpuMask(vec![0b1000_1111]));
        assert_eq!(cpu_list("f", "1, 3").unwrap(), CpuMask(vec![0b1010]));
        let wide = cpu_list("f", "65").unwrap();
        assert_eq!(wide, CpuMask(vec![0, 2]));
        assert_eq!(wide.bytes(), 16);
    }

    #[test]
    fn bad_lists_name_the_field_and_the_problem() {
        for (text, problem) in [
            ("", "is not a CPU number"),
            ("a", "is not a CPU number"),
            ("3-1", "runs backwards"),
            ("0-", "is not a CPU number"),
            ("9000", "past the highest"),
        ] {
            let e = cpu_list("process.execCPUAffinity.final", text).unwrap_err();
            let text = e.to_string();
            assert!(
                text.starts_with("process.execCPUAffinity.final: "),
                "{text}"
            );
            assert!(text.contains(problem), "{text}");
        }
    }

    #[test]
    fn an_absent_list_is_none() {
        let a: ExecCPUAffinity = serde_json::from_str(r#"{"final": "0-1"}"#).unwrap();
        let p = plan(&a).unwrap();
        assert_eq!(p.initial, None);
        assert_eq!(p.last, Some(CpuMask(vec![0b11])));
    }
}
