//! process.scheduler and process.ioPriority turned into what the child
//! passes to sched_setattr(2) and ioprio_set(2), with the ranges the kernel
//! enforces checked up front so a bad value names its field.

use super::PlanError;
use oci_spec::runtime::{
    IOPriorityClass, LinuxIOPriority, LinuxSchedulerFlag, LinuxSchedulerPolicy, Scheduler,
};

/// The kernel's `struct sched_attr` (SCHED_ATTR_SIZE_VER0, 48 bytes: the
/// spec has no utilization clamps).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedAttr {
    pub size: u32,
    pub policy: u32,
    pub flags: u64,
    pub nice: i32,
    pub priority: u32,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
}

const SCHED_DEADLINE: u32 = 6;

fn invalid(field: &str, problem: String) -> PlanError {
    PlanError::Invalid {
        field: format!("process.scheduler.{field}"),
        problem,
    }
}

/// The sched_attr for `s`.
pub fn scheduler(s: &Scheduler) -> Result<SchedAttr, PlanError> {
    use LinuxSchedulerPolicy as P;
    let policy = match s.policy() {
        P::SchedOther => 0,
        P::SchedFifo => 1,
        P::SchedRr => 2,
        P::SchedBatch => 3,
        P::SchedIso => {
            return Err(invalid(
                "policy",
                "SCHED_ISO is reserved and not implemented by Linux".into(),
            ));
        }
        P::SchedIdle => 5,
        P::SchedDeadline => SCHED_DEADLINE,
    };
    let nice = s.nice().unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        return Err(invalid("nice", format!("{nice} is outside -20..19")));
    }
    let priority = s.priority().unwrap_or(0);
    let realtime = policy == 1 || policy == 2;
    match (realtime, priority) {
        (true, 1..=99) | (false, 0) => {}
        (true, p) => {
            return Err(invalid(
                "priority",
                format!("{p}: SCHED_FIFO and SCHED_RR need a priority in 1..99"),
            ));
        }
        (false, p) => {
            return Err(invalid(
                "priority",
                format!("{p}: only SCHED_FIFO and SCHED_RR take a priority"),
            ));
        }
    }
    let mut flags = 0u64;
    for (i, f) in s.flags().iter().flatten().enumerate() {
        use LinuxSchedulerFlag as F;
        flags |= match f {
            F::SchedResetOnFork => 0x01,
            F::SchedFlagReclaim => 0x02,
            F::SchedFlagDLOverrun => 0x04,
            F::SchedFlagKeepPolicy => 0x08,
            F::SchedFlagKeepParams => 0x10,
            F::SchedFlagUtilClampMin | F::SchedFlagUtilClampMax => {
                return Err(invalid(
                    &format!("flags[{i}]"),
                    "utilization clamps need values the spec cannot give: remove the flag".into(),
                ));
            }
        };
    }
    let dl = [
        ("runtime", s.runtime()),
        ("deadline", s.deadline()),
        ("period", s.period()),
    ];
    let [runtime, deadline, period] = dl.map(|(_, v)| v.unwrap_or(0));
    if policy == SCHED_DEADLINE {
        if runtime == 0 || deadline == 0 {
            return Err(invalid(
                "runtime",
                "SCHED_DEADLINE needs runtime and deadline (nanoseconds)".into(),
            ));
        }
        let period_or_deadline = if period == 0 { deadline } else { period };
        if !(runtime <= deadline && deadline <= period_or_deadline) {
            return Err(invalid(
                "deadline",
                format!(
                    "SCHED_DEADLINE needs runtime <= deadline <= period \
                     ({runtime} <= {deadline} <= {period_or_deadline})"
                ),
            ));
        }
    } else if let Some((name, _)) = dl.iter().find(|(_, v)| v.is_some_and(|v| v != 0)) {
        return Err(invalid(name, "only SCHED_DEADLINE takes it".into()));
    }
    Ok(SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy,
        flags,
        nice,
        priority: priority as u32,
        runtime,
        deadline,
        period,
    })
}

/// The ioprio_set(2) value for `io`: class << 13 | priority.
pub fn io_priority(io: &LinuxIOPriority) -> Result<i32, PlanError> {
    let class = match io.class() {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    let prio = io.priority();
    if !(0..=7).contains(&prio) {
        return Err(PlanError::Invalid {
            field: "process.ioPriority.priority".into(),
            problem: format!("{prio} is outside 0..7"),
        });
    }
    Ok((class << 13) | prio as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(json: &str) -> Result<SchedAttr, String> {
        scheduler(&serde_json::from_str(json).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn policies_map_to_the_kernels_attr() {
        let a = sched(r#"{"policy":"SCHED_FIFO","priority":10,"flags":["SCHED_RESET_ON_FORK"]}"#)
            .unwrap();
        assert_eq!((a.size, a.policy, a.priority, a.flags), (48, 1, 10, 1));
        let a = sched(r#"{"policy":"SCHED_BATCH","nice":7}"#).unwrap();
        assert_eq!((a.policy, a.nice, a.priority), (3, 7, 0));
        let a = sched(
            r#"{"policy":"SCHED_DEADLINE","runtime":10000000,"deadline":30000000,"period":30000000}"#,
        )
        .unwrap();
        assert_eq!(
            (a.policy, a.runtime, a.deadline, a.period),
            (6, 10_000_000, 30_000_000, 30_000_000)
        );
    }

    #[test]
    fn out_of_range_values_name_the_field() {
        let e = sched(r#"{"policy":"SCHED_OTHER","nice":20}"#).unwrap_err();
        assert!(e.contains("process.scheduler.nice"), "{e}");
        let e = sched(r#"{"policy":"SCHED_RR"}"#).unwrap_err();
        assert!(e.contains("process.scheduler.priority"), "{e}");
        let e = sched(r#"{"policy":"SCHED_OTHER","priority":3}"#).unwrap_err();
        assert!(e.contains("process.scheduler.priority"), "{e}");
        let e = sched(r#"{"policy":"SCHED_ISO"}"#).unwrap_err();
        assert!(e.contains("process.scheduler.policy"), "{e}");
        let e = sched(r#"{"policy":"SCHED_OTHER","period":5}"#).unwrap_err();
        assert!(e.contains("process.scheduler.period"), "{e}");
        let e = sched(r#"{"policy":"SCHED_DEADLINE","runtime":5,"deadline":4}"#).unwrap_err();
        assert!(e.contains("process.scheduler.deadline"), "{e}");
        let e =
            sched(r#"{"policy":"SCHED_OTHER","flags":["SCHED_FLAG_UTIL_CLAMP_MIN"]}"#).unwrap_err();
        assert!(e.contains("process.scheduler.flags[0]"), "{e}");
    }

    #[test]
    fn io_priority_is_class_and_level() {
        let io = |j: &str| io_priority(&serde_json::from_str(j).unwrap());
        assert_eq!(
            io(r#"{"class":"IOPRIO_CLASS_BE","priority":6}"#).unwrap(),
            (2 << 13) | 6
        );
        assert_eq!(
            io(r#"{"class":"IOPRIO_CLASS_IDLE","priority":0}"#).unwrap(),
            3 << 13
        );
        let e = io(r#"{"class":"IOPRIO_CLASS_RT","priority":8}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("process.ioPriority.priority"), "{e}");
    }
}
