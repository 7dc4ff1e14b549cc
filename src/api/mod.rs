//! The HTTP API for dispatchers and operations (axum). `app(state)` builds
//! the router; tests drive it with `oneshot`, no socket needed.

mod config;
mod engineers;
mod error;
mod extract;
mod fleet;
mod ops;
mod progress;
mod tickets;

pub use config::ApiConfig;
pub use error::ApiError;

use crate::decode::DeadLetterStore;
use crate::dispatch::{PositionStore, StockStore};
use crate::fleet::Fleet;
use crate::telemetry::Metrics;
use crate::tickets::{DeadFindingStore, TicketReader, TicketStore};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The dispatcher console served at `/`: a static page over this API.
pub const CONSOLE: &str = include_str!("console.html");

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
}

/// What the routes that act get: the writers, beside everything a read
/// route gets (through `Deref`).
#[derive(Clone)]
pub struct AppState {
    pub reads: Reads,
    pub tickets: TicketStore,
    pub positions: PositionStore,
    /// Declines, drop-outs and re-plans.
    pub redispatch: Arc<crate::tickets::redispatch::Redispatch>,
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

impl AppState {
    /// The API's stores from the connection, beside the engine's shared parts.
    pub fn new(
        db: &crate::db::Db,
        fleet: Arc<Fleet>,
        dispatcher: Arc<crate::dispatch::Dispatcher>,
        redispatch: Arc<crate::tickets::redispatch::Redispatch>,
        metrics: Arc<Metrics>,
    ) -> AppState {
        let reads = Reads {
            tickets: db.ticket_reader(),
            stock: db.stock(),
            dead_letters: db.dead_letters(),
            dead_findings: db.dead_findings(),
            rules: Arc::clone(&redispatch.rules),
            fleet,
            dispatcher,
            metrics,
        };
        AppState { reads, tickets: db.tickets(), positions: db.positions(), redispatch }
    }
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(ops::console))
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/api/v1/tickets", get(tickets::list))
        .route("/api/v1/tickets/{id}", get(tickets::one))
        .route("/api/v1/tickets/{id}/transition", post(tickets::transition))
        .route("/api/v1/tickets/{id}/reassign", post(tickets::reassign))
        .route("/api/v1/tickets/{id}/decline", post(tickets::decline))
        .route("/api/v1/engineers/{id}/unavailable", post(engineers::unavailable))
        .route("/api/v1/engineers/{id}/available", post(engineers::available))
        .route("/api/v1/engineers/{id}/position", post(engineers::position))
        .route("/api/v1/replan", post(engineers::replan))
        .route("/api/v1/tickets/{id}/quote/accept", post(tickets::accept_quote))
        .route("/api/v1/tickets/{id}/report", post(tickets::report))
        .route("/api/v1/tickets/{id}/follow-up", post(tickets::follow_up))
        .route("/api/v1/assets", get(fleet::assets))
        .route("/api/v1/assets/{id}", get(fleet::asset))
        .route("/api/v1/engineers", get(fleet::engineers))
        .route("/api/v1/depots", get(fleet::depots))
        .route("/api/v1/parts/replenishment", get(fleet::replenishment))
        .route("/api/v1/models", get(fleet::models))
        .route("/api/v1/dead-letters", get(ops::dead_letters))
        .route("/api/v1/dead-findings", get(ops::dead_findings))
        .route("/api/v1/progress/{code}", get(progress::progress))
        .fallback(ops::not_found)
        .with_state(state)
}

/// Serves the API until `shutdown` is set.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    mut shutdown: crate::shutdown::Shutdown,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(async move { shutdown.wait().await }).await
}

#[cfg(test)]
mod tests;
