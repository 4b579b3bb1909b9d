//! Role entries: created when first referred to (by a framework, a
//! reservation or a quota), dropped when nothing refers to them; a role is
//! a client of the role sorter while it has frameworks, and active there
//! while one of them wants offers. Weights and quota are set here.

use super::HierarchicalAllocator;
use super::state::Role;
use crate::allocator::error::AllocatorError;
use crate::allocator::ids::RoleKey;
use crate::allocator::quota::Quota;
use crate::allocator::role::RoleName;
use crate::allocator::sorter::{DrfSorter, Sorter};

impl HierarchicalAllocator {
    /// The entry of `name`, created (with its top-level role) if missing.
    pub(super) fn intern_role(&mut self, name: &RoleName) -> RoleKey {
        if let Some(key) = self.role_keys.get(name.as_str()) {
            return *key;
        }
        let top = if name.is_top_level() {
            None
        } else {
            // A top-level component of a valid role is a valid role.
            RoleName::new(name.top_level())
                .ok()
                .map(|t| self.intern_role(&t))
        };
        let mut sorter = DrfSorter::new();
        sorter.add_total(&self.total);
        let role = Role {
            name: name.clone(),
            top: top.unwrap_or_else(|| self.roles.next_key()),
            sorter,
            quota: None,
            reserved: Default::default(),
            allocated_unreserved: Default::default(),
            reservations: 0,
            subroles: 0,
        };
        let key = self.roles.insert(role);
        if let Some(t) = top.and_then(|top| self.roles.get_mut(top)) {
            t.subroles += 1;
        }
        self.role_keys.insert(name.clone(), key);
        key
    }

    /// The key of an existing role.
    pub(super) fn role_key(&self, name: &str) -> Option<RoleKey> {
        self.role_keys.get(name).copied()
    }

    /// Drops the entry of `key` (and then its top-level role's) if unused.
    pub(super) fn gc_role(&mut self, key: RoleKey) {
        let Some(role) = self.roles.get(key) else {
            return;
        };
        if !role.is_unused() {
            return;
        }
        let (top, name) = (role.top, role.name.clone());
        self.roles.remove(key);
        self.role_keys.remove(name.as_str());
        if top != key {
            if let Some(t) = self.roles.get_mut(top) {
                t.subroles -= 1;
            }
            self.gc_role(top);
        }
    }

    /// Puts the role in the role sorter (or takes it out) according to its
    /// frameworks, and makes it active there while one wants offers.
    pub(super) fn sync_role(&mut self, key: RoleKey) {
        let Some(role) = self.roles.get(key) else {
            return;
        };
        let (has, wants) = (!role.sorter.is_empty(), role.sorter.active_count() > 0);
        let tracked = self.role_sorter.contains(key);
        let name = role.name.clone();
        // The sorter calls below cannot fail: membership was just checked.
        if has && !tracked {
            let _ = self.role_sorter.add_client(key, name.as_str());
        } else if !has && tracked {
            let _ = self.role_sorter.remove_client(key);
        }
        if has {
            let _ = if wants {
                self.role_sorter.activate(key)
            } else {
                self.role_sorter.deactivate(key)
            };
        }
    }

    pub(super) fn apply_weight(&mut self, role: &str, weight: f64) -> Result<(), AllocatorError> {
        let name = RoleName::new(role)?;
        if !(weight.is_finite() && weight > 0.0) {
            return Err(AllocatorError::InvalidWeight {
                role: role.to_owned(),
                weight,
            });
        }
        self.role_sorter.set_weight(name.as_str(), weight);
        if weight == 1.0 {
            self.weights.remove(name.as_str());
        } else {
            self.weights.insert(name, weight);
        }
        Ok(())
    }

    pub(super) fn apply_quota(&mut self, role: &str, quota: Quota) -> Result<(), AllocatorError> {
        let name = RoleName::new(role)?;
        if !name.is_top_level() {
            let top = name.top_level().to_owned();
            return Err(AllocatorError::QuotaOnNestedRole {
                role: role.to_owned(),
                top,
            });
        }
        if let Some(res) = quota.guarantee_above_limit() {
            return Err(AllocatorError::GuaranteeAboveLimit {
                role: role.to_owned(),
                name: res.to_owned(),
            });
        }
        let key = self.intern_role(&name);
        let quota = (!quota.is_default()).then_some(quota);
        if let Some(r) = self.roles.get_mut(key) {
            r.quota = quota;
        }
        self.quota_roles = self
            .roles
            .iter()
            .filter(|(_, r)| r.quota.is_some())
            .map(|(k, _)| k)
            .collect();
        self.gc_role(key);
        Ok(())
    }
}
