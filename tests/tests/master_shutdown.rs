//! SIGTERM stops the master even while schedulers hold their event streams
//! open (they are endless; a graceful shutdown that waited for them would
//! never end), and what it had committed is there after a restart.

use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{Scheduler, framework};
use std::time::Duration;

#[test]
fn sigterm_ends_the_master_with_a_subscribed_framework() {
    let mut m = MasterProcess::start(&[]);
    let mut sched = Scheduler::subscribe(&m.url(), framework("held-open"));
    let id = sched.framework_id();
    assert!(
        m.terminate(Duration::from_secs(10)),
        "the master did not exit within 10 s of SIGTERM:\n{}",
        m.stderr_log()
    );
    sched.close();
    m.restart();
    let mut info = framework("held-open");
    info.id = Some(id.clone());
    let back = Scheduler::resubscribe(&m.url(), info);
    assert_eq!(back.framework_id(), id, "the framework survived the stop");
}
