//! The master as a systemd service (`Type=notify`): READY=1 once the
//! registry is recovered and the port serves, a STATUS= line, WATCHDOG=1
//! only while the master's loop answers (a hung loop stops the pings and
//! systemd restarts the master), STOPPING=1 on the way out. Without
//! `$NOTIFY_SOCKET` all of it is a no-op.

use crate::core::Command;
use corral_systemd::Notifier;
use tokio::sync::mpsc::UnboundedSender;

fn report(what: &str, r: Result<(), corral_systemd::NotifyError>) {
    if let Err(e) = r {
        eprintln!("corral master: telling systemd {what}: {e}");
    }
}

/// systemd's notification socket (none outside systemd, or when
/// `$NOTIFY_SOCKET` is unusable, said so).
pub fn notifier() -> Notifier {
    Notifier::from_env().unwrap_or_else(|e| {
        eprintln!("corral master: {e}; not notifying systemd");
        Notifier::none()
    })
}

/// READY=1 with `status`, then the watchdog pings for as long as the loop
/// behind `master` answers within the ping interval.
pub fn ready(notifier: Notifier, status: &str, master: UnboundedSender<Command>) {
    report("READY", notifier.ready(status));
    let Some(every) = notifier.watchdog_interval() else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let (tx, rx) = tokio::sync::oneshot::channel();
            if master.send(Command::Ping(tx)).is_err() {
                return;
            }
            if let Ok(Ok(())) = tokio::time::timeout(every, rx).await {
                report("WATCHDOG", notifier.watchdog());
            }
        }
    });
}

/// STOPPING=1.
pub fn stopping(notifier: &Notifier) {
    report("STOPPING", notifier.stopping("stopping: SIGTERM or SIGINT"));
}
