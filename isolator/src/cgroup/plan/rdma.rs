//! The rdma controller: each `rdma` device → one rdma.max line
//! `<device> hca_handle=N hca_object=M`, an unset count meaning `max`.

use super::{Plan, Write, invalid};
use crate::cgroup::error::CgroupError;
use oci_spec::runtime::LinuxRdma;
use std::collections::HashMap;

/// Adds the rdma.max writes of `rdma` to `p`, sorted by device name.
pub(super) fn plan(rdma: &HashMap<String, LinuxRdma>, p: &mut Plan) -> Result<(), CgroupError> {
    let mut devices: Vec<(&String, &LinuxRdma)> = rdma.iter().collect();
    devices.sort_by_key(|(name, _)| *name);
    for (name, limits) in devices {
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(invalid(
                "rdma",
                format!("{name:?}"),
                "give the HCA device name as in /sys/class/infiniband, e.g. \"mlx5_0\"",
            ));
        }
        if limits.hca_handles().is_none() && limits.hca_objects().is_none() {
            continue;
        }
        let count = |v: Option<u32>| v.map_or("max".to_string(), |v| v.to_string());
        p.push(Write::new(
            "rdma.max",
            format!(
                "{name} hca_handle={} hca_object={}",
                count(limits.hca_handles()),
                count(limits.hca_objects())
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxRdmaBuilder;

    #[test]
    fn one_line_per_device() {
        let map = HashMap::from([
            (
                "mlx5_1".to_string(),
                LinuxRdmaBuilder::default()
                    .hca_handles(3u32)
                    .build()
                    .unwrap(),
            ),
            (
                "mlx5_0".to_string(),
                LinuxRdmaBuilder::default()
                    .hca_handles(2u32)
                    .hca_objects(100u32)
                    .build()
                    .unwrap(),
            ),
            ("mlx5_2".to_string(), LinuxRdma::default()),
        ]);
        let mut p = Plan::default();
        plan(&map, &mut p).unwrap();
        assert_eq!(
            p.writes,
            vec![
                Write::new("rdma.max", "mlx5_0 hca_handle=2 hca_object=100"),
                Write::new("rdma.max", "mlx5_1 hca_handle=3 hca_object=max"),
            ]
        );
    }

    #[test]
    fn device_names_with_spaces_are_errors() {
        let map = HashMap::from([("a b".to_string(), LinuxRdma::default())]);
        assert!(plan(&map, &mut Plan::default()).is_err());
    }
}
