//! Compatibility end to end: pymesos 0.3.15 (the unmodified third-party
//! Mesos v1 scheduler library, installed by `tests/compat/setup`) launches
//! `echo hi` through a real master on a real agent in the VM and sees it
//! finish; `hi` is in the task's sandbox.

use corral_tests::agent::AgentProcess;
use corral_tests::compat::run_pymesos_launch;
use corral_tests::master::MasterProcess;
use std::time::Duration;

#[test]
fn pymesos_launches_echo_hi_on_a_real_agent_and_sees_it_finish() {
    corral_tests::vm::require();
    let m = MasterProcess::start(&["--allocation-interval", "100ms"]);
    let agent = AgentProcess::start(&m.host_port(), &["--resources", "cpus:2;mem:512;disk:1024"]);
    let run = run_pymesos_launch(&m.host_port(), Duration::from_secs(120));
    let states: Vec<String> = run.statuses().into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        run.code,
        Some(0),
        "pymesos did not see TASK_FINISHED: states {states:?}\nstdout:\n{}\nstderr:\n{}\nagent:\n{}",
        run.stdout,
        run.stderr,
        agent.log()
    );
    assert_eq!(
        states.first().map(String::as_str),
        Some("TASK_STARTING"),
        "{states:?}"
    );
    assert!(states.contains(&"TASK_RUNNING".to_string()), "{states:?}");
    assert_eq!(states.last().map(String::as_str), Some("TASK_FINISHED"));
    let sandboxes: Vec<_> = std::fs::read_dir(agent.work_dir().join("sandboxes"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(sandboxes.len(), 1);
    let out = std::fs::read_to_string(sandboxes[0].path().join("stdout")).unwrap();
    assert_eq!(out, "hi\n");
}
