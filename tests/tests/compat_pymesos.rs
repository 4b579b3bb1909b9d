//! Compatibility with an existing, unmodified third-party Mesos v1 HTTP
//! scheduler library: pymesos 0.3.15 from PyPI (installed by
//! `tests/compat/setup`, which `tests/run` calls) subscribes to a real
//! `corral master`, takes an offer from a simulated agent, launches `echo
//! hi` and sees it finish, acknowledging each update.

use corral_tests::compat::run_pymesos_launch;
use corral_tests::master::MasterProcess;
use corral_tests::simagent::{SimAgent, SimOptions};
use std::time::Duration;

#[test]
fn pymesos_launches_a_task_and_sees_it_finish() {
    let m = MasterProcess::start(&["--allocation-interval", "50ms"]);
    let agent = SimAgent::start(&m.url(), SimOptions::default());
    let run = run_pymesos_launch(&m.host_port(), Duration::from_secs(60));
    let states: Vec<String> = run.statuses().into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        run.code,
        Some(0),
        "pymesos did not see TASK_FINISHED: states {states:?}\nstdout:\n{}\nstderr:\n{}\nmaster:\n{}",
        run.stdout,
        run.stderr,
        m.stderr_log()
    );
    assert_eq!(
        states.last().map(String::as_str),
        Some("TASK_FINISHED"),
        "{states:?}"
    );
    assert!(states.contains(&"TASK_RUNNING".to_string()), "{states:?}");
    assert_eq!(agent.launched().len(), 1, "one task reached the agent");
    agent.wait_for("every update acknowledged", Duration::from_secs(10), |a| {
        a.pending_updates() == 0
    });
}
