//! Who may do what: the roles, the principal a request acts as, the policy
//! table naming the roles allowed each action, the API tokens that identify
//! principals, and the audit log of every write. The API enforces it; the
//! CLI issues and revokes tokens.

mod audit;
mod limit;
mod oidc;
mod policy;
pub mod privacy;
mod secret;
mod tokens;
mod users;

pub use audit::{AuditEntry, AuditStore};
pub use limit::RateLimit;
pub use oidc::{OidcConfig, Verifier};
pub use policy::{Access, Action};
pub use privacy::PrivacyConfig;
pub use tokens::{IssuedToken, TokenRecord, TokenStore, TOKEN_PREFIX};
pub use users::{Session, UserRecord, UserStore};

use crate::fleet::Fleet;
use crate::model::EngineerId;
use crate::tickets::{Actor, TicketState};
use serde::{Deserialize, Serialize};

crate::model::named_enum! {
    /// What a principal is to the service organisation.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Role: "role" {
        /// Identities, tokens, the audit log; reads everything but personal data.
        Admin = "admin",
        /// Everything on tickets, re-plans, engineer availability.
        Supervisor = "supervisor",
        /// Reassignments, lifecycle steps, re-plans; reads everything.
        Dispatcher = "dispatcher",
        /// Only the tickets assigned to them, their own position and availability.
        Engineer = "engineer",
        /// Reads only: tickets, fleet, metrics, what was kept aside.
        Operations = "operations",
        /// Only its own units, tickets and quotes.
        Customer = "customer",
    }
}

crate::db::text_column!(Role);

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("{0}")]
    Invalid(String),
    /// A credential that does not prove who the caller is.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<sqlx::Error> for AccessError {
    fn from(e: sqlx::Error) -> Self {
        AccessError::Db(e.into())
    }
}

/// Whom a principal's objects belong to: everything (staff), the tickets of
/// one engineer, or the units and tickets of one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    All,
    Engineer(EngineerId),
    /// The customer's name as the fleet file writes it on its assets.
    Customer(String),
}

/// Who a request acts as: a name for the audit and the ticket history, a
/// role for the policy table, a scope for the objects it may touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

impl Principal {
    /// Checks that the role and whom it speaks for fit: an engineer's token
    /// names an engineer, a customer's a customer, and staff name neither.
    pub fn new(
        name: &str,
        role: Role,
        engineer: Option<EngineerId>,
        customer: Option<String>,
    ) -> Result<Principal, AccessError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(AccessError::Invalid("a principal's name is 1 to 100 bytes".into()));
        }
        // A history names people by these; a person named like an engine
        // stage would read as that stage.
        if Actor::STAGES.iter().any(|stage| stage.as_str().eq_ignore_ascii_case(name)) {
            return Err(AccessError::Invalid(format!("'{name}' names one of the engine's own stages")));
        }
        let scope = match (role, engineer, customer) {
            (Role::Engineer, Some(e), None) => Scope::Engineer(e),
            (Role::Customer, None, Some(c)) if !c.trim().is_empty() => Scope::Customer(c),
            (Role::Engineer | Role::Customer, ..) => {
                return Err(AccessError::Invalid(format!(
                    "a {role} token names exactly one {} and nothing else",
                    if role == Role::Engineer { "engineer" } else { "customer" }
                )))
            }
            (_, None, None) => Scope::All,
            _ => return Err(AccessError::Invalid(format!("a {role} token names no engineer or customer"))),
        };
        Ok(Principal { name: name.to_owned(), role, scope })
    }

    /// A principal read back from a stored token or user (`what` names the
    /// row): one the rules no longer accept makes the row corrupt.
    pub fn stored(
        what: &str,
        name: &str,
        role: Role,
        engineer: Option<EngineerId>,
        customer: Option<String>,
    ) -> Result<Principal, AccessError> {
        Principal::new(name, role, engineer, customer)
            .map_err(|e| AccessError::Db(crate::db::DbError::Corrupt(format!("{what}: {e}"))))
    }

    pub fn engineer(&self) -> Option<&EngineerId> {
        match &self.scope {
            Scope::Engineer(e) => Some(e),
            _ => None,
        }
    }

    pub fn customer(&self) -> Option<&str> {
        match &self.scope {
            Scope::Customer(c) => Some(c),
            _ => None,
        }
    }

    /// Whether `action` is this principal's to take (objects aside).
    pub fn may(&self, action: Action) -> bool {
        action.roles().contains(&self.role)
    }

    /// Whether a unit of `owner` (the customer on the asset) is within reach:
    /// a customer's own units, every unit for everyone else.
    pub fn sees_asset(&self, owner: &str) -> bool {
        self.customer().is_none_or(|c| c == owner)
    }

    /// Whether a ticket held by `holder` on a unit of `customer` is within
    /// reach: staff see every ticket, an engineer those they hold, a
    /// customer those on its own units.
    pub fn sees_ticket(&self, holder: Option<&EngineerId>, customer: Option<&str>) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Engineer(e) => holder == Some(e),
            Scope::Customer(c) => customer == Some(c.as_str()),
        }
    }

    /// Whether the lifecycle step to `to` is this principal's: an engineer
    /// accepts, sets off and arrives (resolving takes a report, declining
    /// has its own route); cancelling and closing belong to the office.
    pub fn may_step_to(&self, to: TicketState) -> bool {
        self.role != Role::Engineer || [TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite].contains(&to)
    }

    /// Checks that whom the principal speaks for exists in the fleet.
    pub fn check_against(&self, fleet: &Fleet) -> Result<(), AccessError> {
        match &self.scope {
            Scope::Engineer(e) if fleet.engineer(e.as_str()).is_none() => {
                Err(AccessError::Invalid(format!("no engineer '{e}' in the fleet file")))
            }
            Scope::Customer(c) if !fleet.assets().iter().any(|a| &a.customer == c) => {
                Err(AccessError::Invalid(format!("no asset of customer '{c}' in the fleet file")))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
