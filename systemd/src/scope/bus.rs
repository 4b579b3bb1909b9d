//! A connection to systemd's manager over D-Bus (zbus, blocking), and the
//! three calls the driver makes: StartTransientUnit, SetUnitProperties and
//! StopUnit.
//!
//! It goes through the system bus (`/run/dbus/system_bus_socket`) to
//! `org.freedesktop.systemd1`, as runc does. Not through systemd's private
//! socket `/run/systemd/private`: there systemd sends every signal to every
//! client with the sender `org.freedesktop.systemd1`, which is not a unique
//! name, and zbus's reader gives up on such a message, so the call's reply
//! never arrives (a hang). While dbus is being (socket-)activated, systemd
//! may not own its name yet: calls are retried on ServiceUnknown and
//! NameHasNoOwner for [`BUS_WAIT`].

use super::props::Prop;
use std::path::Path;
use std::time::{Duration, Instant};
use zbus::blocking::Connection;
use zbus::zvariant::Value;

/// Exists when systemd is the service manager (sd_booted(3)).
pub const SYSTEMD_RUN_DIR: &str = "/run/systemd/system";
/// The system bus socket.
pub const SYSTEM_BUS_SOCKET: &str = "/run/dbus/system_bus_socket";
/// How long calls are retried while systemd does not own its bus name yet.
pub const BUS_WAIT: Duration = Duration::from_secs(15);

const DESTINATION: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// What went wrong talking to systemd.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// systemd is not running as the service manager here.
    #[error(
        "systemd is not the service manager here ({SYSTEMD_RUN_DIR} does not exist): the \
         systemd cgroup driver needs a host booted with systemd as PID 1"
    )]
    NoSystemd,
    /// There is no system bus to reach systemd through.
    #[error(
        "no D-Bus system bus at {SYSTEM_BUS_SOCKET}: the systemd cgroup driver talks to \
         systemd through it; install and start dbus (dbus-daemon or dbus-broker)"
    )]
    NoBus,
    /// Connecting failed.
    #[error("connecting to systemd at {socket}: {source}")]
    Connect {
        /// The socket tried.
        socket: &'static str,
        /// zbus's answer.
        source: Box<zbus::Error>,
    },
    /// A method call failed.
    #[error("systemd {method}({unit}): {source}")]
    Call {
        /// The method.
        method: &'static str,
        /// The unit it was about.
        unit: String,
        /// systemd's or zbus's answer.
        source: Box<zbus::Error>,
    },
}

/// A connection to the manager.
#[derive(Debug)]
pub struct Manager {
    conn: Connection,
}

impl Manager {
    /// Connects to systemd through the system bus.
    pub fn connect() -> Result<Manager, BusError> {
        if !Path::new(SYSTEMD_RUN_DIR).exists() {
            return Err(BusError::NoSystemd);
        }
        if !Path::new(SYSTEM_BUS_SOCKET).exists() {
            return Err(BusError::NoBus);
        }
        let conn = Connection::system().map_err(|e| BusError::Connect {
            socket: SYSTEM_BUS_SOCKET,
            source: Box::new(e),
        })?;
        Ok(Manager { conn })
    }

    /// StartTransientUnit(unit, "fail", properties), returning once the
    /// job is queued (the caller waits for the scope's cgroup).
    pub fn start_transient_unit(
        &self,
        unit: &str,
        properties: &[(String, Prop)],
    ) -> Result<(), BusError> {
        let props = values(properties);
        let aux: Vec<(&str, Vec<(&str, Value)>)> = Vec::new();
        self.call("StartTransientUnit", unit, &(unit, "fail", props, aux))
    }

    /// SetUnitProperties(unit, runtime = true, properties): a live change
    /// that lasts until the unit goes.
    pub fn set_unit_properties(
        &self,
        unit: &str,
        properties: &[(String, Prop)],
    ) -> Result<(), BusError> {
        self.call("SetUnitProperties", unit, &(unit, true, values(properties)))
    }

    /// StopUnit(unit, "replace"); a unit systemd no longer has is fine.
    pub fn stop_unit(&self, unit: &str) -> Result<(), BusError> {
        match self.call("StopUnit", unit, &(unit, "replace")) {
            Err(BusError::Call { source, .. })
                if matches!(&*source, zbus::Error::MethodError(name, _, _)
                    if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit") =>
            {
                Ok(())
            }
            other => other,
        }
    }

    fn call<B>(&self, method: &'static str, unit: &str, body: &B) -> Result<(), BusError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        let start = Instant::now();
        loop {
            let result =
                self.conn
                    .call_method(Some(DESTINATION), PATH, Some(MANAGER), method, body);
            match result {
                Ok(_) => return Ok(()),
                Err(e) if not_yet_on_the_bus(&e) && start.elapsed() < BUS_WAIT => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    return Err(BusError::Call {
                        method,
                        unit: unit.to_string(),
                        source: Box::new(e),
                    });
                }
            }
        }
    }
}

/// Whether `e` says systemd does not own its bus name yet.
fn not_yet_on_the_bus(e: &zbus::Error) -> bool {
    matches!(e, zbus::Error::MethodError(name, _, _)
        if matches!(name.as_str(),
            "org.freedesktop.DBus.Error.ServiceUnknown" | "org.freedesktop.DBus.Error.NameHasNoOwner"))
}

/// Properties as D-Bus `a(sv)`.
fn values(properties: &[(String, Prop)]) -> Vec<(&str, Value<'_>)> {
    properties
        .iter()
        .map(|(name, p)| {
            let v = match p {
                Prop::U64(n) => Value::U64(*n),
                Prop::Bool(b) => Value::Bool(*b),
                Prop::Str(s) => Value::from(s.as_str()),
                Prop::Bytes(b) => Value::from(b.clone()),
                Prop::Pids(p) => Value::from(p.clone()),
            };
            (name.as_str(), v)
        })
        .collect()
}
