//! Which unpacked images containers use, and PRUNE_IMAGES (Mesos' agent
//! operator call): every image in the store that no container's bundle
//! names and that the call does not exclude is removed. A launch holds the
//! gate shared from provisioning its image until its bundle names it (the
//! `image` file beside config.json); the prune holds it exclusively, so an
//! image is never removed between being provisioned and being used. A
//! bundle goes with its container, so an image is in use from its launch
//! until its container is removed.

use super::{Containerizer, ContainerizerError};
use crate::images::{Provisioned, folder};
use corral_api::v1::TaskInfo;
use std::collections::HashSet;
use std::path::Path;

/// The file in a bundle naming the store folder of its image.
const MARKER: &str = "image";

impl Containerizer {
    /// Provisions the task's image (if any) and records it in `bundle`,
    /// under the gate.
    pub(super) fn provision_for(
        &self,
        task: &TaskInfo,
        bundle: &Path,
    ) -> Result<Option<Provisioned>, ContainerizerError> {
        let _shared = self.image_gate.read().unwrap_or_else(|e| e.into_inner());
        let Some(image) = self.image_of(task)? else {
            return Ok(None);
        };
        std::fs::create_dir_all(bundle).map_err(ContainerizerError::io("creating", bundle))?;
        let marker = bundle.join(MARKER);
        std::fs::write(&marker, folder(&image.manifest))
            .map_err(ContainerizerError::io("writing", &marker))?;
        Ok(Some(image))
    }

    /// PRUNE_IMAGES: removes the unpacked images no container uses,
    /// except those named in `excluded` (resolved in the registry now);
    /// the store folders removed.
    pub fn prune_images(&self, excluded: &[String]) -> Result<Vec<String>, ContainerizerError> {
        let keep = excluded
            .iter()
            .map(|name| self.images.folder_of(name))
            .collect::<Result<HashSet<String>, _>>()?;
        let _exclusive = self.image_gate.write().unwrap_or_else(|e| e.into_inner());
        let in_use = self.images_in_use()?;
        self.images
            .prune(&in_use, &keep)
            .map_err(ContainerizerError::io("pruning", self.images.dir()))
    }

    /// The store folders named by the bundles of the containers there are.
    fn images_in_use(&self) -> Result<HashSet<String>, ContainerizerError> {
        let dir = self.paths.containers();
        let mut used = HashSet::new();
        let entries = match std::fs::read_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(used),
            entries => entries.map_err(ContainerizerError::io("listing", &dir))?,
        };
        for e in entries.flatten() {
            let marker = e.path().join("bundle").join(MARKER);
            match std::fs::read_to_string(&marker) {
                Ok(name) => {
                    used.insert(name.trim().to_string());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ContainerizerError::io("reading", &marker)(e)),
            }
        }
        Ok(used)
    }
}
