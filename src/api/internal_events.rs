//! What the API reports about its callers: refused credentials and
//! held-back callers, counted in its own section of `/metrics` and logged
//! without any secret; sign-ins and issued tokens logged for the trail.

use crate::access::Role;
use crate::telemetry::prometheus::{header, Kind};
use crate::telemetry::{InternalEvent, Section};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// How a caller failed to prove who they are (a label, never stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A bearer token or JWT.
    Bearer,
    /// A name and password.
    SignIn,
}

impl Refused {
    const ALL: [Refused; 2] = [Refused::Bearer, Refused::SignIn];

    fn as_str(self) -> &'static str {
        match self {
            Refused::Bearer => "bearer",
            Refused::SignIn => "sign_in",
        }
    }
}

/// `upkeep_api_credentials_refused_total{kind}` and `upkeep_api_rate_limited_total`.
#[derive(Debug, Default)]
pub struct ApiMetrics {
    refused: [AtomicU64; Refused::ALL.len()],
    rate_limited: AtomicU64,
}

impl Section for ApiMetrics {
    fn render(&self, out: &mut String) {
        let name = "upkeep_api_credentials_refused_total";
        header(out, name, Kind::Counter, "Credentials that proved nobody, by kind");
        for k in Refused::ALL {
            let _ = writeln!(out, "{name}{{kind=\"{}\"}} {}", k.as_str(), self.refused[k as usize].load(Relaxed));
        }
        let name = "upkeep_api_rate_limited_total";
        header(out, name, Kind::Counter, "Requests held back by a rate limit (429)");
        let _ = writeln!(out, "{name} {}", self.rate_limited.load(Relaxed));
    }
}

/// A credential refused; what was presented is never part of it.
pub struct CredentialRefused<'a> {
    pub kind: Refused,
    pub address: Option<&'a str>,
    /// The name a sign-in gave.
    pub name: Option<&'a str>,
    pub why: &'a str,
}

impl InternalEvent for CredentialRefused<'_> {
    type Counters = ApiMetrics;

    fn emit(self, m: &ApiMetrics) {
        m.refused[self.kind as usize].fetch_add(1, Relaxed);
        let CredentialRefused { kind, address, name, why } = self;
        tracing::warn!(kind = kind.as_str(), address, name, why, "credential refused");
    }
}

/// A request held back by a rate limit.
pub struct RateLimited<'a> {
    pub address: Option<&'a str>,
}

impl InternalEvent for RateLimited<'_> {
    type Counters = ApiMetrics;

    fn emit(self, m: &ApiMetrics) {
        m.rate_limited.fetch_add(1, Relaxed);
        tracing::debug!(address = self.address, "request held back by a rate limit");
    }
}

/// A console user signed in.
pub struct SignedIn<'a> {
    pub name: &'a str,
    pub role: Role,
}

impl InternalEvent for SignedIn<'_> {
    type Counters = ApiMetrics;

    fn emit(self, _: &ApiMetrics) {
        tracing::info!(name = self.name, role = %self.role, "signed in");
    }
}

/// An admin issued an API token (its id, never its secret).
pub struct TokenIssued<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub role: Role,
}

impl InternalEvent for TokenIssued<'_> {
    type Counters = ApiMetrics;

    fn emit(self, _: &ApiMetrics) {
        tracing::info!(id = self.id, name = self.name, role = %self.role, "API token issued");
    }
}
