//! The agent as a systemd service (`Type=notify`): READY=1 once its tasks
//! are recovered and the master accepted it, STATUS= lines as the link comes
//! and goes, WATCHDOG=1 from the agent's own loop (so a hung loop stops the
//! pings and systemd restarts the agent), STOPPING=1 on the way out. Without
//! `$NOTIFY_SOCKET` all of it is a no-op.

use corral_systemd::Notifier;
use std::time::Instant;

/// What the service manager has been told.
#[derive(Debug)]
pub struct Service {
    notifier: Notifier,
    ready: bool,
    next_watchdog: Option<Instant>,
}

impl Service {
    /// Over `notifier`.
    pub fn new(notifier: Notifier) -> Service {
        Service {
            next_watchdog: notifier.watchdog_interval().map(|_| Instant::now()),
            notifier,
            ready: false,
        }
    }

    fn report(&self, what: &str, r: Result<(), corral_systemd::NotifyError>) {
        if let Err(e) = r {
            eprintln!("corral agent: telling systemd {what}: {e}");
        }
    }

    /// The master accepted the agent: READY=1 the first time.
    pub fn subscribed(&mut self, agent_id: &str, containers: usize) {
        let status = format!("registered as {agent_id}; {containers} containers");
        if self.ready {
            self.report("the status", self.notifier.status(&status));
        } else {
            self.ready = true;
            self.report("READY", self.notifier.ready(&status));
        }
    }

    /// The link to the master is down.
    pub fn link_down(&self, why: &str) {
        let status = format!("the link to the master is down ({why}); reconnecting");
        self.report("the status", self.notifier.status(&status));
    }

    /// Called from the loop's tick: a watchdog ping when one is due.
    pub fn tick(&mut self, now: Instant) {
        let (Some(next), Some(every)) = (self.next_watchdog, self.notifier.watchdog_interval())
        else {
            return;
        };
        if now >= next {
            self.report("WATCHDOG", self.notifier.watchdog());
            self.next_watchdog = Some(now + every);
        }
    }
}

/// STOPPING=1 (on SIGTERM or SIGINT), with the reason.
pub fn stopping(notifier: &Notifier, why: &str) {
    if let Err(e) = notifier.stopping(why) {
        eprintln!("corral agent: telling systemd STOPPING: {e}");
    }
}
