//! The policy table: which roles may take each action. Every API route
//! names one `Access`; objects (whose ticket, whose unit) are checked by
//! the route against the principal's scope.

use super::Role;
use serde::Serialize;

crate::model::named_enum! {
    /// What a route does, as far as the policy is concerned.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Action: "action" {
        /// Ticket lists and details (engineers: their own; customers: theirs, without internals).
        ReadTickets = "read_tickets",
        /// Lifecycle steps, declines and service reports (engineers: on their own tickets).
        WorkTicket = "work_ticket",
        /// Put an engineer of one's choosing on a ticket.
        Reassign = "reassign",
        /// Re-plan every ticket nobody has accepted.
        Replan = "replan",
        /// Mark tickets as seen by a dispatcher (many at once in an alarm storm).
        Acknowledge = "acknowledge",
        /// An engineer drops out or comes back (engineers: themselves).
        SetAvailability = "set_availability",
        /// An engineer's app reports where they are (only for themselves).
        ReportPosition = "report_position",
        /// Accept an out-of-warranty quote (customers: their own).
        AcceptQuote = "accept_quote",
        /// Record the customer's rating of closed work (customers: their own).
        RecordFollowUp = "record_follow_up",
        /// The installed units (customers: their own).
        ReadAssets = "read_assets",
        /// Models and their repair rates, depots, replenishment.
        ReadFleet = "read_fleet",
        /// Engineers with their home bases and positions: personal data.
        ReadEngineers = "read_engineers",
        /// Messages kept aside, with their raw payloads.
        ReadDeadLetters = "read_dead_letters",
        /// Findings kept aside.
        ReadDeadFindings = "read_dead_findings",
        /// The Prometheus metrics.
        ReadMetrics = "read_metrics",
        /// Issue, list and revoke API tokens.
        ManageTokens = "manage_tokens",
        /// Add, list and disable console users.
        ManageUsers = "manage_users",
        /// Read the audit log.
        ReadAudit = "read_audit",
        /// Messages sent to people and webhooks, with their delivery state.
        ReadNotifications = "read_notifications",
        /// Send a dead notification again.
        RetryNotifications = "retry_notifications",
        /// Record a fault a customer reports (customers: on their own units).
        ReportFault = "report_fault",
        /// The follow-up calls due on closed tickets.
        ReadFollowUps = "read_follow_ups",
        /// File a complaint (customers: about their own units and tickets).
        FileComplaint = "file_complaint",
        /// Read complaints (customers: their own).
        ReadComplaints = "read_complaints",
        /// Answer and resolve complaints.
        HandleComplaints = "handle_complaints",
        /// Accept or reject a complaint's resolution (customers: their own).
        AnswerComplaint = "answer_complaint",
        /// The monthly report per customer, model and engineer.
        ReadReports = "read_reports",
        /// Photos and documents on tickets (engineers: their own tickets'; not customers).
        ReadAttachments = "read_attachments",
    }
}

impl Action {
    /// The table itself: one line per action, every action listed (the
    /// match is exhaustive, so a new action needs its line).
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::ReadTickets => &[Admin, Supervisor, Dispatcher, Engineer, Operations, Customer],
            Action::WorkTicket => &[Supervisor, Dispatcher, Engineer],
            Action::Reassign | Action::Replan | Action::Acknowledge => &[Supervisor, Dispatcher],
            Action::SetAvailability => &[Supervisor, Engineer],
            Action::ReportPosition => &[Engineer],
            Action::AcceptQuote => &[Supervisor, Customer],
            Action::RecordFollowUp => &[Supervisor, Dispatcher, Customer],
            Action::ReadAssets => &[Admin, Supervisor, Dispatcher, Engineer, Operations, Customer],
            Action::ReadFleet => &[Admin, Supervisor, Dispatcher, Engineer, Operations],
            Action::ReadEngineers => &[Supervisor, Dispatcher, Engineer],
            Action::ReadDeadLetters => &[Admin, Operations],
            Action::ReadDeadFindings | Action::ReadMetrics => &[Admin, Supervisor, Dispatcher, Operations],
            Action::ManageTokens | Action::ManageUsers | Action::ReadAudit => &[Admin],
            Action::ReadNotifications => &[Admin, Supervisor, Dispatcher, Operations],
            Action::RetryNotifications => &[Admin, Supervisor, Dispatcher],
            Action::ReportFault => &[Supervisor, Dispatcher, Customer],
            Action::ReadFollowUps => &[Supervisor, Dispatcher, Operations],
            Action::FileComplaint => &[Supervisor, Dispatcher, Customer],
            Action::ReadComplaints => &[Admin, Supervisor, Dispatcher, Operations, Customer],
            Action::HandleComplaints => &[Supervisor, Dispatcher],
            Action::AnswerComplaint => &[Supervisor, Customer],
            Action::ReadReports => &[Admin, Supervisor, Dispatcher, Operations],
            Action::ReadAttachments => &[Admin, Supervisor, Dispatcher, Engineer, Operations],
        }
    }
}

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the liveness and readiness probes, the console's page, the
    /// OpenAPI document, and a customer's progress page (its code is the key).
    Public,
    /// Any principal, whatever the role (their own session).
    Signed,
    /// A principal whose role the table allows.
    Requires(Action),
}
