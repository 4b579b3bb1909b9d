//! The io controller: `blockIO.weight` and `weightDevice` → io.weight (with
//! io.bfq.weight as the fallback), the four throttle lists → one io.max line
//! per device.
//!
//! v1 blkio weights run 10..=1000; io.weight runs 1..=10000 and is converted
//! as crun does. io.bfq.weight keeps the v1 range, so the fallback writes the
//! original value. A throttle rate of 0 meant "no limit" on v1 and becomes
//! `max`.

use super::{OnMissing, Plan, Write, invalid};
use crate::cgroup::error::CgroupError;
use oci_spec::runtime::{LinuxBlockIo, LinuxThrottleDevice};
use std::collections::BTreeMap;

/// io.weight for a v1 blkio weight (10..=1000), crun's formula:
/// `1 + (weight - 10) * 9999 / 990`, so 10 → 1, 500 → 4950, 1000 → 10000.
pub fn blkio_weight_to_io_weight(weight: u64) -> u64 {
    1 + weight.saturating_sub(10) * 9999 / 990
}

/// Adds the io writes of `b` to `p`.
pub(super) fn plan(b: &LinuxBlockIo, p: &mut Plan) -> Result<(), CgroupError> {
    if let Some(w) = b.weight().filter(|&w| w != 0) {
        p.push(weight_write("blockIO.weight", "default", w)?);
    }
    let mut leaf = b.leaf_weight().is_some();
    for d in b.weight_device().iter().flatten() {
        let dev = device("blockIO.weightDevice", d.major(), d.minor())?;
        if let Some(w) = d.weight().filter(|&w| w != 0) {
            p.push(weight_write("blockIO.weightDevice.weight", &dev, w)?);
        }
        leaf |= d.leaf_weight().is_some();
    }
    if leaf {
        p.ignore(
            "blockIO.leafWeight",
            "leaf weights were a CFQ feature; CFQ left the kernel in 5.0 and cgroup v2 has no \
             such knob (runc ignores them too)",
        );
    }
    for (dev, limits) in throttle_lines(b)? {
        p.push(Write::new("io.max", format!("{dev} {}", limits.join(" "))));
    }
    Ok(())
}

/// The io.weight write for `target` ("default" or "MAJ:MIN"), falling back to
/// io.bfq.weight with the unconverted value.
fn weight_write(field: &str, target: &str, weight: u16) -> Result<Write, CgroupError> {
    if !(10..=1000).contains(&weight) {
        return Err(invalid(
            field,
            weight,
            "blkio weights run from 10 to 1000 (0 leaves the weight unset)",
        ));
    }
    let io_weight = blkio_weight_to_io_weight(u64::from(weight));
    Ok(
        Write::new("io.weight", format!("{target} {io_weight}")).on_missing(OnMissing::Instead {
            file: "io.bfq.weight".into(),
            value: format!("{target} {weight}"),
        }),
    )
}

/// "MAJ:MIN" for a device, refusing negative numbers.
fn device(field: &str, major: i64, minor: i64) -> Result<String, CgroupError> {
    if major < 0 || minor < 0 {
        return Err(invalid(
            field,
            format!("{major}:{minor}"),
            "device numbers are non-negative (see /sys/block/*/dev)",
        ));
    }
    Ok(format!("{major}:{minor}"))
}

/// The io.max key=value pairs of each device, sorted by device.
fn throttle_lines(b: &LinuxBlockIo) -> Result<BTreeMap<String, Vec<String>>, CgroupError> {
    let lists: [(&str, &str, &Option<Vec<LinuxThrottleDevice>>); 4] = [
        (
            "blockIO.throttleReadBpsDevice",
            "rbps",
            b.throttle_read_bps_device(),
        ),
        (
            "blockIO.throttleWriteBpsDevice",
            "wbps",
            b.throttle_write_bps_device(),
        ),
        (
            "blockIO.throttleReadIOPSDevice",
            "riops",
            b.throttle_read_iops_device(),
        ),
        (
            "blockIO.throttleWriteIOPSDevice",
            "wiops",
            b.throttle_write_iops_device(),
        ),
    ];
    let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (field, key, list) in lists {
        for d in list.iter().flatten() {
            let dev = device(field, d.major(), d.minor())?;
            let rate = match d.rate() {
                0 => "max".to_string(),
                r => r.to_string(),
            };
            lines.entry(dev).or_default().push(format!("{key}={rate}"));
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxWeightDeviceBuilder;
    use oci_spec::runtime::{LinuxBlockIoBuilder, LinuxThrottleDeviceBuilder, LinuxWeightDevice};

    fn planned(b: LinuxBlockIo) -> Result<Plan, CgroupError> {
        let mut p = Plan::default();
        plan(&b, &mut p).map(|()| p)
    }

    fn dev(major: i64, minor: i64, rate: u64) -> LinuxThrottleDevice {
        LinuxThrottleDeviceBuilder::default()
            .major(major)
            .minor(minor)
            .rate(rate)
            .build()
            .unwrap()
    }

    fn weight_dev(major: i64, minor: i64, weight: u16) -> LinuxWeightDevice {
        LinuxWeightDeviceBuilder::default()
            .major(major)
            .minor(minor)
            .weight(weight)
            .build()
            .unwrap()
    }

    #[test]
    fn weight_converts_as_crun_does() {
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(500), 4950);
        assert_eq!(blkio_weight_to_io_weight(1000), 10_000);
    }

    #[test]
    fn weight_falls_back_to_bfq_with_the_original_value() {
        let p = planned(
            LinuxBlockIoBuilder::default()
                .weight(500u16)
                .build()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            p.writes,
            vec![
                Write::new("io.weight", "default 4950").on_missing(OnMissing::Instead {
                    file: "io.bfq.weight".into(),
                    value: "default 500".into(),
                })
            ]
        );
    }

    #[test]
    fn weight_out_of_range_is_an_error() {
        let b = LinuxBlockIoBuilder::default().weight(5u16).build().unwrap();
        let msg = planned(b).unwrap_err().to_string();
        assert!(msg.contains("blockIO.weight = 5"), "{msg}");
        let b = LinuxBlockIoBuilder::default().weight(0u16).build().unwrap();
        assert!(planned(b).unwrap().writes.is_empty(), "0 is unset");
    }

    #[test]
    fn per_device_weights() {
        let b = LinuxBlockIoBuilder::default()
            .weight_device(vec![weight_dev(8, 0, 1000), weight_dev(8, 16, 10)])
            .build()
            .unwrap();
        let p = planned(b).unwrap();
        let got: Vec<(&str, &str)> = p
            .writes
            .iter()
            .map(|w| (w.file.as_str(), w.value.as_str()))
            .collect();
        assert_eq!(got, [("io.weight", "8:0 10000"), ("io.weight", "8:16 1")]);
        let OnMissing::Instead { value, .. } = &p.writes[0].on_missing else {
            panic!("no bfq fallback: {:?}", p.writes[0]);
        };
        assert_eq!(value, "8:0 1000");
    }

    #[test]
    fn throttles_combine_into_one_line_per_device() {
        let b = LinuxBlockIoBuilder::default()
            .throttle_read_bps_device(vec![dev(8, 0, 1 << 20), dev(253, 1, 7)])
            .throttle_write_bps_device(vec![dev(8, 0, 2 << 20)])
            .throttle_read_iops_device(vec![dev(8, 0, 100)])
            .throttle_write_iops_device(vec![dev(8, 0, 0)])
            .build()
            .unwrap();
        let p = planned(b).unwrap();
        assert_eq!(
            p.writes,
            vec![
                Write::new("io.max", "253:1 rbps=7"),
                Write::new(
                    "io.max",
                    "8:0 rbps=1048576 wbps=2097152 riops=100 wiops=max"
                ),
            ]
        );
    }

    #[test]
    fn negative_device_numbers_are_errors() {
        let b = LinuxBlockIoBuilder::default()
            .throttle_write_bps_device(vec![dev(-1, 0, 5)])
            .build()
            .unwrap();
        let msg = planned(b).unwrap_err().to_string();
        assert!(msg.contains("throttleWriteBpsDevice = -1:0"), "{msg}");
    }

    #[test]
    fn leaf_weights_are_reported_as_ignored() {
        let b = LinuxBlockIoBuilder::default()
            .leaf_weight(300u16)
            .build()
            .unwrap();
        let p = planned(b).unwrap();
        assert!(p.writes.is_empty());
        assert_eq!(p.ignored[0].field, "blockIO.leafWeight");
    }
}
