//! GPU device nodes: `/dev/nvidia0`, `/dev/nvidia1`, ... (not the control
//! nodes `nvidiactl`, `nvidia-uvm`), and render nodes are not counted.

/// How many GPU nodes the names in /dev hold.
pub fn count_gpus<'a>(dev_names: impl IntoIterator<Item = &'a str>) -> u64 {
    dev_names
        .into_iter()
        .filter(|n| {
            n.strip_prefix("nvidia")
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_numbered_nvidia_nodes_count() {
        let names = [
            "nvidia0",
            "nvidia1",
            "nvidiactl",
            "nvidia-uvm",
            "null",
            "nvidia",
        ];
        assert_eq!(super::count_gpus(names), 2);
    }
}
