//! The user a task runs as: `CommandInfo.user`, else `FrameworkInfo.user`
//! (Mesos' rule), looked up in /etc/passwd. A user this machine does not
//! have fails the launch, as in Mesos; an empty name runs as the agent's
//! user. In a container with an image, names are looked up in the
//! image's own /etc/passwd and /etc/group (read inside its root, never
//! following a symlink out of it), and the image config's `User`
//! (`NAME`, `UID`, `NAME:GROUP`, `UID:GID`) is understood.

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

/// Finds group `name` in group-format `text`.
fn group(text: &str, name: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 3 && f[0] == name).then(|| f[2].parse().ok())?
    })
}

/// Resolves a user spec (`NAME`, `UID`, `NAME:GROUP`, `UID:GID`) against
/// an image's passwd and group texts. `root` and numeric ids need no
/// entry (an image may have no /etc/passwd).
pub fn resolve_in_image(passwd: &str, groups: &str, spec: &str) -> Result<User, String> {
    let (who, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let mut user = match (lookup(passwd, who), who.parse::<u32>()) {
        (Some(u), _) => u,
        (None, Ok(uid)) => User { uid, gid: uid },
        (None, Err(_)) if who == "root" => User { uid: 0, gid: 0 },
        (None, Err(_)) => return Err(format!("user {who:?} does not exist in the image")),
    };
    if let Some(g) = grp {
        user.gid = match (g.parse::<u32>(), group(groups, g)) {
            (Ok(gid), _) | (_, Some(gid)) => gid,
            _ => return Err(format!("group {g:?} does not exist in the image")),
        };
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_user_specs() {
        let passwd = "root:x:0:0::/root:/bin/sh\nwww:x:33:33::/:/bin/sh\n";
        let groups = "root:x:0:\nstaff:x:50:\n";
        let r = |s| resolve_in_image(passwd, groups, s);
        assert_eq!(r("www"), Ok(User { uid: 33, gid: 33 }));
        assert_eq!(r("www:staff"), Ok(User { uid: 33, gid: 50 }));
        assert_eq!(r("1000:7"), Ok(User { uid: 1000, gid: 7 }));
        assert_eq!(
            resolve_in_image("", "", "root"),
            Ok(User { uid: 0, gid: 0 })
        );
        assert!(r("bob").unwrap_err().contains("\"bob\""));
        assert!(r("www:nogroup").is_err());
    }

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
