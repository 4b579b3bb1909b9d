//! RESERVE and UNRESERVE in an ACCEPT (Mesos' dynamic reservations). A
//! checked operation converts resources of the accepted offers: the
//! allocator's books (the framework keeps holding them, now reserved or
//! unreserved, so later operations of the same ACCEPT can launch on them),
//! the agent's reservations and its registry record (submitted in order,
//! before any launch that uses them). What is left is recovered at the end
//! of the ACCEPT and offered again — reserved resources only to their role.
//!
//! An invalid operation is dropped as Mesos drops it: logged on the
//! master's stderr and, when the framework gave the operation an `id`,
//! answered with UPDATE_OPERATION_STATUS / OPERATION_ERROR and the reason;
//! nothing else is sent, its resources stay in the offers' pool. A valid
//! operation with an `id` is answered OPERATION_FINISHED (corral applies
//! reservations in the master at once; no acknowledgement is expected).

use super::Master;
use super::accept::Pool;
use crate::allocator::Allocator;
use crate::reservation::{self, OfferContext};
use corral_api::FrameworkId;
use corral_api::scheduler::Event;
use corral_api::v1::{OfferOperation, OperationState, OperationStatus, OperationType};

impl Master {
    /// Runs one RESERVE or UNRESERVE against the accepted offers' pool.
    pub(super) fn reservation_operation(
        &mut self,
        framework: &FrameworkId,
        pool: &mut Pool,
        op: &OfferOperation,
    ) {
        match self.convert_reservation(framework, pool, op) {
            Ok(()) => {
                let agent = Some(pool.agent.clone());
                self.operation_status(framework, op, OperationState::Finished, None, agent);
            }
            Err(why) => self.drop_operation(framework, op, why),
        }
    }

    /// Drops an invalid operation as Mesos does: logged, and answered with
    /// OPERATION_ERROR when it has an id (without agent: Mesos sets none).
    pub(super) fn drop_operation(&self, framework: &FrameworkId, op: &OfferOperation, why: String) {
        let kind = op
            .r#type
            .map_or("UNKNOWN", corral_api::json::ProtoEnum::name);
        eprintln!("corral master: dropping {kind} operation from framework '{framework}': {why}");
        self.operation_status(framework, op, OperationState::Error, Some(why), None);
    }

    fn operation_status(
        &self,
        framework: &FrameworkId,
        op: &OfferOperation,
        state: OperationState,
        message: Option<String>,
        agent_id: Option<corral_api::AgentId>,
    ) {
        if let Some(id) = &op.id {
            let status = OperationStatus {
                operation_id: Some(id.clone()),
                state,
                message,
                agent_id,
                ..OperationStatus::default()
            };
            self.to_framework(framework, &Event::update_operation_status(status));
        }
    }

    /// Checks the operation and applies it everywhere, or says why not
    /// (then nothing changed).
    fn convert_reservation(
        &mut self,
        framework: &FrameworkId,
        pool: &mut Pool,
        op: &OfferOperation,
    ) -> Result<(), String> {
        let (Some(f), Some(a)) = (self.frameworks.get(framework), self.agents.get(&pool.agent))
        else {
            return Err("the framework or the agent is gone".into());
        };
        let cx = OfferContext {
            framework: &f.info,
            role: &pool.role,
            offered: &pool.resources,
            agent: &a.reservations,
        };
        let reserve = op.r#type == Some(OperationType::Reserve);
        let conversion = match (&op.reserve, &op.unreserve) {
            (Some(r), _) if reserve => reservation::check_reserve(r, cx),
            (_, Some(u)) if !reserve => reservation::check_unreserve(u, cx),
            _ => return Err("the operation has no 'reserve' or 'unreserve' object".into()),
        }
        .map_err(|e| e.to_string())?;
        let mut updated = a.reservations.clone();
        for (info, p) in &conversion.reservations {
            if reserve {
                updated.reserve(info.clone(), p)
            } else {
                updated.unreserve(info, p)
            }
            .map_err(|e| e.to_string())?;
        }
        self.allocator
            .update_allocation(f.key, &pool.role, a.key, &conversion.from, &conversion.to)
            .map_err(|e| e.to_string())?;
        pool.resources.subtract(&conversion.from);
        pool.resources.add(&conversion.to);
        if let Some(a) = self.agents.get_mut(&pool.agent) {
            a.reservations = updated;
        }
        self.persist_agent(&pool.agent);
        Ok(())
    }
}
