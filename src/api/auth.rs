//! Who is calling and whether they may. `gate` turns the bearer token into a
//! `Principal` (a request extension) and writes every write to the audit log,
//! allowed or not; `authorize` checks a route's `Access` against the policy
//! table. Objects (whose ticket, whose unit) are checked by the routes.

use super::{ApiError, AppState};
use crate::access::{Access, AuditEntry, Principal};
use crate::model::now_ms;
use crate::tickets::Actor;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Identifies the caller, holds back one over its rate limits, runs the
/// request, and audits it when it writes.
pub async fn gate(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD);
    let entry = writes.then(|| AuditEntry {
        at: now_ms(),
        principal: None,
        role: None,
        method: req.method().to_string(),
        route: req.extensions().get::<MatchedPath>().map_or("(no route)", |m| m.as_str()).to_owned(),
        object: req.uri().path().to_owned(),
        status: 0,
    });
    let address = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let admitted = admit(&s, &mut req, address.as_deref(), writes).await;
    let principal = req.extensions().get::<Principal>().cloned();
    let response = match admitted {
        Ok(()) => next.run(req).await,
        Err(refused) => refused,
    };
    audit(&s, entry, principal, response).await
}

/// Identifies the caller within the rate limits: an address that presented
/// too many bad tokens waits before its next one is even looked at; writes
/// count against the principal and the address.
async fn admit(s: &AppState, req: &mut Request, address: Option<&str>, writes: bool) -> Result<(), Response> {
    let now = Instant::now();
    if let Some(a) = address {
        s.limits.failed_auth.check(a, now).map_err(too_many)?;
    }
    match identify(s, req.headers()).await {
        Ok(Some(p)) => {
            req.extensions_mut().insert(p);
        }
        Ok(None) => {}
        Err(e) => {
            if let Some(a) = address.filter(|_| e.status == StatusCode::UNAUTHORIZED) {
                let _ = s.limits.failed_auth.take(a, now);
            }
            return Err(e.into_response());
        }
    }
    if writes {
        let who = req.extensions().get::<Principal>().map(|p| format!("p:{}:{}", p.role, p.name));
        for key in who.into_iter().chain(address.map(|a| format!("a:{a}"))) {
            s.limits.writes.take(&key, now).map_err(too_many)?;
        }
    }
    Ok(())
}

/// 429 with the seconds until a request is allowed again.
fn too_many(wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut r =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("too many requests: retry in {secs} s"))
            .into_response();
    r.headers_mut().insert(header::RETRY_AFTER, secs.into());
    r
}

/// The principal a request's bearer token stands for; none without a token.
async fn identify(s: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must read `Bearer <token>`"))?;
    match s.tokens.principal(token.trim()).await? {
        Some(p) => Ok(Some(p)),
        None => Err(ApiError::unauthorized("unknown or revoked token")),
    }
}

/// Writes the audit entry of a write (a failure to is logged, and the
/// answer already given stands).
async fn audit(s: &AppState, entry: Option<AuditEntry>, who: Option<Principal>, response: Response) -> Response {
    if let Some(mut e) = entry {
        e.status = i64::from(response.status().as_u16());
        e.role = who.as_ref().map(|p| p.role);
        e.principal = who.map(|p| p.name);
        if let Err(error) = s.audit.record(&e).await {
            tracing::error!(%error, route = %e.route, status = e.status, "audit entry not written");
        }
    }
    response
}

/// A route's check: anyone for a public route, else a principal whose role
/// the policy table allows (401 without one, 403 with the wrong role).
pub async fn authorize(access: Access, req: Request, next: Next) -> Response {
    if let Access::Requires(action) = access {
        match req.extensions().get::<Principal>() {
            None => return ApiError::unauthorized("this route needs a bearer token").into_response(),
            Some(p) if !p.may(action) => {
                return ApiError::forbidden(format!("a {} may not {}", p.role, action.as_str().replace('_', " ")))
                    .into_response()
            }
            Some(_) => {}
        }
    }
    next.run(req).await
}

/// The caller, for routes that need one (`authorize` ran first).
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| ApiError::unauthorized("no identity"))
    }
}

/// Who the ticket history names: the engineer for their own steps, else
/// the principal's name. Never a name from the request body.
pub fn actor(p: &Principal) -> Actor<'_> {
    match p.engineer() {
        Some(e) => Actor::Engineer(e),
        None => Actor::Person(&p.name),
    }
}
