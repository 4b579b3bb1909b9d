//! `run` in one step: create the container and let its init exec the user
//! program as soon as it is set up, without parking it on a start socket
//! for a separate `start`. This is how the agent launches executors; the
//! outcome is the same as `create` then `start`, including the hooks, with
//! fewer steps between them (no socket, no second load of the state).

use super::{CreateOptions, Runtime, RuntimeError};
use crate::id::ContainerId;
use crate::state::State;
use std::path::Path;

impl Runtime {
    /// Creates container `id` from the bundle in `bundle_dir` and starts
    /// it. Returns its state (running) and the poststart hooks' failures,
    /// which are warnings as for `start`. On an error nothing is left.
    pub fn run(
        &self,
        id: &ContainerId,
        bundle_dir: &Path,
        opts: &CreateOptions,
    ) -> Result<(State, Vec<String>), RuntimeError> {
        let state = self.create_or_run(id, bundle_dir, opts, true)?;
        let warnings = super::start::poststart(&state);
        Ok((state, warnings))
    }
}
