//! Service tickets: the lifecycle decided without I/O (`lifecycle`), the
//! store that applies it, and the service that commits the engine's
//! findings as tickets and dispatches them (ingest acknowledges their
//! messages once committed); severity, SLA timers and re-dispatch.

pub mod appointment;
pub mod attachments;
pub mod complaints;
mod config;
mod dead_finding;
pub mod escalation;
mod event;
#[cfg(test)]
pub(crate) mod fixtures;
mod history;
mod internal_events;
pub mod lifecycle;
mod notice;
pub mod quote;
pub mod redispatch;
pub mod remedy;
pub mod report;
mod service;
pub mod severity;
mod state;
mod store;
pub mod warranty;

pub use config::{EscalationAction, EscalationConfig, QuoteConfig, RepairsConfig};
pub use dead_finding::{DeadFinding, DeadFindingStore, Stage as DeadFindingStage};
pub use event::{Actor, EventKind};
pub use history::StoredHistory;
pub use notice::Notice;
pub use remedy::Remedy;
pub use service::{ReportError, Reported, ServiceContext};
pub use state::TicketState;
pub use store::{
    AfterSales, AfterSalesRecord, AssignmentRecord, Begun, Closure, CustomerReport, Due, EventRecord, EvidenceRecord,
    FollowUpDue, NewTicket, OpenOutcome, Opening, ReportRecord, StoreError, Ticket, TicketDetail, TicketFilter,
    TicketReader, TicketStore,
};
pub use warranty::Warranty;
