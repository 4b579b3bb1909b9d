//! The agent daemon: fingerprinting, the containerizer, the status-update
//! manager, the link to the master and the v1 executor API.
