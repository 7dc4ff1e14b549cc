//! The HTTP API for dispatchers and operations (axum). `app(state)` builds
//! the router; tests drive it with `oneshot`, no socket needed.

mod admin;
mod attachments;
mod auth;
mod complaints;
mod config;
mod engineers;
mod error;
mod extract;
mod fleet;
mod internal_events;
mod live;
mod monthly;
mod notifications;
mod ops;
mod progress;
mod reports;
mod session;
mod tickets;
mod ui;
mod visits;

pub use config::ApiConfig;
pub use error::ApiError;

use crate::access::{Access, Action, AuditStore, RateLimit, TokenStore, UserStore, Verifier};
use crate::decode::DeadLetterStore;
use crate::dispatch::{PositionStore, StockStore};
use crate::fleet::Fleet;
use crate::telemetry::Metrics;
use crate::tickets::{DeadFindingStore, TicketReader, TicketStore};
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use std::sync::Arc;

/// The OpenAPI document served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// What the read routes get (`State<Reads>`): stores they can only read.
#[derive(Clone)]
pub struct Reads {
    pub tickets: TicketReader,
    pub stock: StockStore,
    pub dead_letters: DeadLetterStore,
    pub dead_findings: DeadFindingStore,
    pub fleet: Arc<Fleet>,
    pub rules: Arc<crate::rules::RuleSet>,
    pub dispatcher: Arc<crate::dispatch::Dispatcher>,
    pub metrics: Arc<Metrics>,
    pub audit: AuditStore,
    pub complaints: crate::tickets::complaints::ComplaintStore,
    pub attachments: crate::tickets::attachments::AttachmentStore,
    /// Notifications and their delivery state.
    pub notifications: crate::outputs::notify::NotificationStore,
    /// Tells open consoles that tickets moved (`/api/v1/stream`).
    pub changes: Arc<live::Changes>,
}

/// What the routes that act get: the writers, beside everything a read
/// route gets (through `Deref`).
#[derive(Clone)]
pub struct AppState {
    pub reads: Reads,
    pub tickets: TicketStore,
    pub positions: PositionStore,
    /// Whom a bearer token stands for; issued and revoked by admins.
    pub tokens: TokenStore,
    /// Console users and their sessions.
    pub users: UserStore,
    /// Checks bearer JWTs from the identity provider, when one is configured.
    pub oidc: Option<Arc<Verifier>>,
    /// How long a console session lasts.
    pub session_ttl: crate::model::Span,
    /// Session cookies only over HTTPS.
    pub secure_cookies: bool,
    /// The console map's tile URL template; empty: the drawn map only.
    pub map_tiles: String,
    pub limits: Arc<Limits>,
    /// Refused credentials and held-back callers (a section of `/metrics`).
    pub api_metrics: Arc<internal_events::ApiMetrics>,
    /// Declines, drop-outs and re-plans.
    pub redispatch: Arc<crate::tickets::redispatch::Redispatch>,
    /// Opens tickets for faults customers report, as for detected ones.
    pub service: Arc<crate::tickets::ServiceContext>,
}

impl std::ops::Deref for AppState {
    type Target = Reads;

    fn deref(&self) -> &Reads {
        &self.reads
    }
}

impl axum::extract::FromRef<AppState> for Reads {
    fn from_ref(state: &AppState) -> Reads {
        state.reads.clone()
    }
}

/// The API's rate limits.
#[derive(Debug)]
pub struct Limits {
    /// Writes, per principal (`p:` keys) and per client address (`a:` keys).
    pub writes: RateLimit,
    /// Refused tokens per client address.
    pub failed_auth: RateLimit,
}

impl Limits {
    pub fn new(config: &ApiConfig) -> Limits {
        Limits {
            writes: RateLimit::per_minute(config.writes_per_minute),
            failed_auth: RateLimit::per_minute(config.failed_auth_per_minute),
        }
    }
}

impl AppState {
    /// The API's stores from the connection, beside the engine's shared
    /// parts (the ticket service's fleet, rules, dispatcher and re-dispatch).
    pub fn new(
        config: &ApiConfig,
        oidc: Option<Arc<Verifier>>,
        db: &crate::db::Db,
        service: Arc<crate::tickets::ServiceContext>,
        metrics: Arc<Metrics>,
    ) -> AppState {
        let (fleet, dispatcher) = (Arc::clone(&service.fleet), Arc::clone(&service.dispatcher));
        let redispatch = Arc::clone(&service.redispatch);
        let reads = Reads {
            tickets: db.ticket_reader(),
            stock: db.stock(),
            dead_letters: db.dead_letters(),
            dead_findings: db.dead_findings(),
            rules: Arc::clone(&redispatch.rules),
            fleet,
            dispatcher,
            metrics,
            audit: db.audit(),
            notifications: db.notifications(),
            complaints: db.complaints(),
            attachments: db.attachments(),
            changes: Arc::default(),
        };
        let limits = Arc::new(Limits::new(config));
        let api_metrics = Arc::new(internal_events::ApiMetrics::default());
        reads.metrics.register(api_metrics.clone());
        AppState {
            reads,
            tickets: db.tickets(),
            positions: db.positions(),
            tokens: db.tokens(),
            users: db.users(),
            oidc,
            session_ttl: config.session_ttl,
            secure_cookies: config.secure_cookies,
            map_tiles: config.map_tiles.clone(),
            limits,
            api_metrics,
            redispatch,
            service,
        }
    }
}

/// One route: its method and path, what it asks of the caller, its handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

/// Every route with its policy: a route cannot be added without naming what
/// it asks of the caller.
pub fn routes() -> Vec<Route> {
    use Access::{Public, Requires, Signed};
    use Action::*;
    macro_rules! r {
        ($method:ident, $path:literal, $access:expr, $handler:expr) => {
            Route {
                method: Method::$method,
                path: $path,
                access: $access,
                handler: on(MethodFilter::$method, $handler),
            }
        };
    }
    vec![
        r!(GET, "/", Public, ui::console),
        r!(GET, "/field", Public, ui::field),
        r!(GET, "/track", Public, ui::track),
        r!(GET, "/ui/{name}", Public, ui::file),
        r!(GET, "/health", Public, ops::health),
        r!(GET, "/ready", Public, ops::ready),
        r!(GET, "/openapi.json", Public, ops::openapi),
        r!(GET, "/api/v1/progress/{code}", Public, progress::progress),
        r!(POST, "/api/v1/progress/{code}/quote/accept", Public, progress::accept_quote),
        r!(POST, "/api/v1/progress/{code}/follow-up", Public, progress::follow_up),
        r!(POST, "/api/v1/login", Public, session::login),
        r!(POST, "/api/v1/logout", Signed, session::logout),
        r!(GET, "/api/v1/session", Signed, session::whoami),
        r!(GET, "/metrics", Requires(ReadMetrics), ops::metrics),
        r!(GET, "/api/v1/tickets", Requires(ReadTickets), tickets::list),
        r!(POST, "/api/v1/tickets", Requires(ReportFault), reports::report),
        r!(GET, "/api/v1/stream", Requires(ReadTickets), live::stream),
        r!(GET, "/api/v1/tickets/{id}", Requires(ReadTickets), tickets::one),
        r!(POST, "/api/v1/tickets/acknowledge", Requires(Acknowledge), tickets::acknowledge),
        r!(POST, "/api/v1/tickets/{id}/transition", Requires(WorkTicket), tickets::transition),
        r!(POST, "/api/v1/tickets/{id}/decline", Requires(WorkTicket), tickets::decline),
        r!(POST, "/api/v1/tickets/{id}/appointment", Requires(WorkTicket), visits::book),
        r!(POST, "/api/v1/tickets/{id}/comments", Requires(WorkTicket), attachments::comment),
        r!(POST, "/api/v1/tickets/{id}/parts/{part}/arrived", Requires(WorkTicket), attachments::part_arrived),
        r!(POST, "/api/v1/tickets/{id}/attachments", Requires(WorkTicket), attachments::attach),
        r!(GET, "/api/v1/tickets/{id}/attachments", Requires(ReadAttachments), attachments::list),
        r!(GET, "/api/v1/tickets/{id}/attachments/{attachment}", Requires(ReadAttachments), attachments::file),
        r!(POST, "/api/v1/tickets/{id}/report", Requires(WorkTicket), tickets::report),
        r!(GET, "/api/v1/tickets/{id}/candidates", Requires(Reassign), tickets::candidates),
        r!(POST, "/api/v1/tickets/{id}/reassign", Requires(Reassign), tickets::reassign),
        r!(POST, "/api/v1/tickets/{id}/quote/accept", Requires(AcceptQuote), tickets::accept_quote),
        r!(POST, "/api/v1/tickets/{id}/follow-up", Requires(RecordFollowUp), tickets::follow_up),
        r!(GET, "/api/v1/follow-ups", Requires(ReadFollowUps), reports::follow_ups_due),
        r!(GET, "/api/v1/reports/monthly", Requires(ReadReports), monthly::monthly),
        r!(GET, "/report", Public, ui::report),
        r!(POST, "/api/v1/complaints", Requires(FileComplaint), complaints::file),
        r!(GET, "/api/v1/complaints", Requires(ReadComplaints), complaints::list),
        r!(GET, "/api/v1/complaints/{id}", Requires(ReadComplaints), complaints::one),
        r!(POST, "/api/v1/complaints/{id}/respond", Requires(HandleComplaints), complaints::respond),
        r!(POST, "/api/v1/complaints/{id}/resolve", Requires(HandleComplaints), complaints::resolve),
        r!(POST, "/api/v1/complaints/{id}/answer", Requires(AnswerComplaint), complaints::answer),
        r!(POST, "/api/v1/replan", Requires(Replan), engineers::replan),
        r!(POST, "/api/v1/engineers/{id}/unavailable", Requires(SetAvailability), engineers::unavailable),
        r!(POST, "/api/v1/engineers/{id}/available", Requires(SetAvailability), engineers::available),
        r!(POST, "/api/v1/engineers/{id}/position", Requires(ReportPosition), engineers::position),
        r!(GET, "/api/v1/engineers", Requires(ReadEngineers), fleet::engineers),
        r!(GET, "/api/v1/assets", Requires(ReadAssets), fleet::assets),
        r!(GET, "/api/v1/assets/{id}", Requires(ReadAssets), fleet::asset),
        r!(GET, "/api/v1/depots", Requires(ReadFleet), fleet::depots),
        r!(GET, "/api/v1/parts/replenishment", Requires(ReadFleet), fleet::replenishment),
        r!(GET, "/api/v1/models", Requires(ReadFleet), fleet::models),
        r!(GET, "/api/v1/dead-letters", Requires(ReadDeadLetters), ops::dead_letters),
        r!(GET, "/api/v1/dead-findings", Requires(ReadDeadFindings), ops::dead_findings),
        r!(GET, "/api/v1/tokens", Requires(ManageTokens), admin::tokens),
        r!(POST, "/api/v1/tokens", Requires(ManageTokens), admin::issue),
        r!(DELETE, "/api/v1/tokens/{id}", Requires(ManageTokens), admin::revoke),
        r!(GET, "/api/v1/users", Requires(ManageUsers), admin::users),
        r!(POST, "/api/v1/users", Requires(ManageUsers), admin::add_user),
        r!(DELETE, "/api/v1/users/{name}", Requires(ManageUsers), admin::disable_user),
        r!(GET, "/api/v1/audit", Requires(ReadAudit), admin::audit),
        r!(GET, "/api/v1/notifications", Requires(ReadNotifications), notifications::list),
        r!(POST, "/api/v1/notifications/{id}/retry", Requires(RetryNotifications), notifications::retry),
    ]
}

pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        let access = route.access;
        let check = middleware::from_fn(move |req: Request, next: Next| auth::authorize(access, req, next));
        router = router.route(route.path, route.handler.route_layer(check));
    }
    router.fallback(ops::not_found).layer(middleware::from_fn_with_state(state.clone(), auth::gate)).with_state(state)
}

/// Serves the API until `shutdown` is set.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    mut shutdown: crate::shutdown::Shutdown,
) -> std::io::Result<()> {
    let changes = Arc::clone(&state.changes);
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let stopping = async move {
        shutdown.wait().await;
        changes.close();
    };
    axum::serve(listener, app).with_graceful_shutdown(stopping).await
}

#[cfg(test)]
mod tests;
