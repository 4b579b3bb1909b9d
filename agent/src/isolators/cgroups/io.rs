//! `cgroups/io`: io.stat is always read for usage; when a task carries the
//! corral resources `disk_read_bps` / `disk_write_bps` (bytes per second on
//! the agent's `--io-device`), they become io.max limits on that device.
//! Mesos has no such resources; corral offers them only when the operator
//! names the device and its bandwidth (docs/agent.md).

use super::super::{Isolator, IsolatorError, Launch, Settings, SpecPatch};
use serde_json::json;

/// The isolator.
#[derive(Debug)]
pub struct Io;

impl Isolator for Io {
    fn name(&self) -> &'static str {
        "cgroups/io"
    }

    fn controllers(&self) -> &'static [&'static str] {
        &["io"]
    }

    fn prepare(&self, l: &Launch, s: &Settings) -> Result<SpecPatch, IsolatorError> {
        let (read, write) = l.io_bps;
        if read.is_none() && write.is_none() {
            return Ok(SpecPatch::default());
        }
        let Some((major, minor)) = s.io_device else {
            return Err(IsolatorError::Refused {
                isolator: self.name(),
                message: "the task asks for disk bandwidth but the agent has no --io-device".into(),
            });
        };
        let mut p = SpecPatch::default();
        let rule = |rate: u64| json!({"major": major, "minor": minor, "rate": rate});
        if let Some(r) = read {
            p = p.append("/linux/resources/blockIO/throttleReadBpsDevice", rule(r));
        }
        if let Some(w) = write {
            p = p.append("/linux/resources/blockIO/throttleWriteBpsDevice", rule(w));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolators::tests_support::{launch, settings};

    #[test]
    fn bandwidth_needs_a_device_and_becomes_io_max() {
        let mut l = launch(1.0, 64.0);
        assert!(Io.prepare(&l, &settings()).unwrap().ops.is_empty());
        l.io_bps = (None, Some(2 << 20));
        assert!(Io.prepare(&l, &settings()).is_err());
        let mut s = settings();
        s.io_device = Some((254, 0));
        let p = Io.prepare(&l, &s).unwrap();
        let mut spec = json!({});
        crate::isolators::patch::merge(&mut spec, &[("io".into(), p)]).unwrap();
        let w = &spec["linux"]["resources"]["blockIO"]["throttleWriteBpsDevice"][0];
        assert_eq!(
            (w["major"].clone(), w["rate"].clone()),
            (json!(254), json!(2 << 20))
        );
    }
}
