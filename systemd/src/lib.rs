//! systemd integration: sd_notify, transient scopes and slices over D-Bus, and
//! the unit files that ship with corral.
