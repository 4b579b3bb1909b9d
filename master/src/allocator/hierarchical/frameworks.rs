//! Framework lifecycle: add (subscribing to roles), remove (giving back
//! all it holds), activate/deactivate, suppress/revive per role. A
//! framework is active in a role's sorter exactly while it is connected and
//! not suppressed in that role.

use super::HierarchicalAllocator;
use super::state::Framework;
use crate::allocator::error::AllocatorError;
use crate::allocator::hash::FastMap;
use crate::allocator::ids::{AgentKey, FrameworkKey, RoleKey};
use crate::allocator::interface::FrameworkSpec;
use crate::allocator::role::RoleName;
use crate::allocator::sorter::Sorter;

impl HierarchicalAllocator {
    pub(super) fn insert_framework(
        &mut self,
        spec: &FrameworkSpec,
    ) -> Result<FrameworkKey, AllocatorError> {
        let mut names: Vec<RoleName> = Vec::with_capacity(spec.roles.len());
        for role in &spec.roles {
            let name = RoleName::new(role)?;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.is_empty() {
            return Err(AllocatorError::NoRoles);
        }
        let mut suppressed = vec![false; names.len()];
        for role in &spec.suppressed_roles {
            match names.iter().position(|n| n.as_str() == role) {
                Some(i) => suppressed[i] = true,
                None => {
                    let framework = self.frameworks.next_key();
                    return Err(AllocatorError::NotSubscribed {
                        framework,
                        role: role.clone(),
                    });
                }
            }
        }
        let roles: Vec<(RoleKey, bool)> = names
            .iter()
            .zip(&suppressed)
            .map(|(n, s)| (self.intern_role(n), *s))
            .collect();
        let framework = Framework {
            roles: roles.clone(),
            active: spec.active,
            capabilities: spec.capabilities,
            agents: FastMap::default(),
            filtered_on: Default::default(),
        };
        let key = self.frameworks.insert(framework);
        for (role, suppressed) in roles {
            if let Some(r) = self.roles.get_mut(role) {
                // A fresh key cannot be in the sorter yet.
                let _ = r.sorter.add_client(key, "");
                if spec.active && !suppressed {
                    let _ = r.sorter.activate(key);
                }
            }
            self.sync_role(role);
        }
        Ok(key)
    }

    pub(super) fn drop_framework(&mut self, fw: FrameworkKey) -> Result<(), AllocatorError> {
        let framework = self.framework(fw)?;
        let roles: Vec<RoleKey> = framework.roles.iter().map(|(r, _)| *r).collect();
        let agents: Vec<_> = framework.agents.keys().copied().collect();
        for agent in agents {
            for &role in &roles {
                let held = self
                    .agents
                    .get(agent)
                    .and_then(|a| a.allocated.get(&(fw, role)).cloned());
                if let Some(held) = held {
                    self.untrack(fw, role, agent, &held);
                }
            }
        }
        self.clear_filters(fw, None);
        self.frameworks.remove(fw);
        for role in roles {
            if let Some(r) = self.roles.get_mut(role) {
                let _ = r.sorter.remove_client(fw);
            }
            self.sync_role(role);
            self.gc_role(role);
        }
        Ok(())
    }

    pub(super) fn set_framework_active(
        &mut self,
        fw: FrameworkKey,
        active: bool,
    ) -> Result<(), AllocatorError> {
        let framework = self
            .frameworks
            .get_mut(fw)
            .ok_or(AllocatorError::UnknownFramework(fw))?;
        framework.active = active;
        let roles = framework.roles.clone();
        for (role, suppressed) in roles {
            self.sync_framework_in_role(fw, role, active && !suppressed);
        }
        Ok(())
    }

    /// Suppresses (or revives) `role`, or every role of the framework when
    /// `None`; reviving also clears the role's decline filters.
    pub(super) fn set_suppressed(
        &mut self,
        fw: FrameworkKey,
        role: Option<&str>,
        suppress: bool,
    ) -> Result<(), AllocatorError> {
        let only = match role {
            Some(name) => Some(self.subscribed_role(fw, name)?),
            None => None,
        };
        let framework = self
            .frameworks
            .get_mut(fw)
            .ok_or(AllocatorError::UnknownFramework(fw))?;
        let active = framework.active;
        let mut changed = Vec::with_capacity(framework.roles.len());
        for (role, suppressed) in &mut framework.roles {
            if only.is_none_or(|o| o == *role) {
                *suppressed = suppress;
                changed.push(*role);
            }
        }
        if !suppress {
            self.clear_filters(fw, only);
        }
        for role in changed {
            self.sync_framework_in_role(fw, role, active && !suppress);
        }
        Ok(())
    }

    /// Drops the framework's decline filters in `role`, or in all roles.
    fn clear_filters(&mut self, fw: FrameworkKey, role: Option<RoleKey>) {
        let Some(framework) = self.frameworks.get_mut(fw) else {
            return;
        };
        let agents: Vec<AgentKey> = match role {
            Some(_) => framework.filtered_on.iter().copied().collect(),
            None => framework.filtered_on.drain().collect(),
        };
        for agent in agents {
            if let Some(a) = self.agents.get_mut(agent) {
                a.filters.clear(fw, role);
            }
        }
    }

    fn sync_framework_in_role(&mut self, fw: FrameworkKey, role: RoleKey, wants: bool) {
        if let Some(r) = self.roles.get_mut(role) {
            // The framework is a client of each of its roles' sorters.
            let _ = if wants {
                r.sorter.activate(fw)
            } else {
                r.sorter.deactivate(fw)
            };
        }
        self.sync_role(role);
    }
}
