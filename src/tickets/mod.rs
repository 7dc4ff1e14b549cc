//! Service tickets: the lifecycle state machine, the store, and the service
//! that turns findings into tickets, dispatches them and acknowledges the
//! MQTT messages they came from.

mod dead_finding;
pub mod escalation;
mod event;
#[cfg(test)]
pub(crate) mod fixtures;
mod history;
pub mod lifecycle;
pub mod quote;
pub mod redispatch;
pub mod remedy;
pub mod report;
mod service;
pub mod severity;
mod state;
mod store;
pub mod warranty;

pub use dead_finding::{DeadFinding, DeadFindingStore, Stage as DeadFindingStage};
pub use event::EventKind;
pub use history::StoredHistory;
pub use remedy::{AfterSales, Remedy};
pub use service::{run as run_service, ServiceContext};
pub use state::TicketState;
pub use store::{
    EventRecord, EvidenceRecord, NewTicket, OpenOutcome, PartLine, StoreError, Ticket, TicketDetail, TicketFilter,
    TicketStore,
};
pub use warranty::Warranty;
