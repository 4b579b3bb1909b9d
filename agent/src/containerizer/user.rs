//! The user a task runs as: `CommandInfo.user`, else `FrameworkInfo.user`
//! (Mesos' rule), looked up in /etc/passwd. A user this machine does not
//! have fails the launch, as in Mesos; an empty name runs as the agent's
//! user.

/// A resolved user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
}

/// Finds `name` in passwd-format `text`.
pub fn lookup(text: &str, name: &str) -> Option<User> {
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 4 || f[0] != name {
            return None;
        }
        Some(User {
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
        })
    })
}

/// Resolves `name` on this machine; `Ok(None)` for an empty name.
pub fn resolve(name: &str) -> Result<Option<User>, String> {
    if name.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string("/etc/passwd")
        .map_err(|e| format!("reading /etc/passwd to find user {name:?}: {e}"))?;
    lookup(&text, name)
        .map(Some)
        .ok_or_else(|| format!("user {name:?} does not exist on this agent"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_users_by_exact_name() {
        let text = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/usr/sbin/nologin\n";
        assert_eq!(
            lookup(text, "nobody"),
            Some(User {
                uid: 65534,
                gid: 65534
            })
        );
        assert_eq!(lookup(text, "nobod"), None);
        assert_eq!(resolve("").unwrap(), None);
        assert!(
            resolve("no-such-user-here")
                .unwrap_err()
                .contains("does not exist")
        );
    }
}
