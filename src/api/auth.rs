//! Who is calling and whether they may. `gate` turns the bearer token into a
//! `Principal` (a request extension) and writes every write to the audit log,
//! allowed or not; `authorize` checks a route's `Access` against the policy
//! table. Objects (whose ticket, whose unit) are checked by the routes.

use super::{ApiError, AppState};
use crate::access::{Access, AuditEntry, Principal};
use crate::model::now_ms;
use crate::tickets::Actor;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Identifies the caller, runs the request, and audits it when it writes.
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
    let response = match identify(&s, req.headers()).await {
        Ok(principal) => {
            if let Some(p) = principal {
                req.extensions_mut().insert(p);
            }
            let principal = req.extensions().get::<Principal>().cloned();
            let response = next.run(req).await;
            return audit(&s, entry, principal, response).await;
        }
        Err(e) => e.into_response(),
    };
    audit(&s, entry, None, response).await
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
