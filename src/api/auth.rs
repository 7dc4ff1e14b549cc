//! Who is calling and whether they may. `gate` turns the bearer token or the
//! console's session cookie into a `Principal` (a request extension), holds
//! a session's writes to their CSRF token, and writes every write to the
//! audit log, allowed or not; `authorize` checks a route's `Access` against
//! the policy table. Objects (whose ticket, whose unit) are checked by the routes.

use super::internal_events::{CredentialRefused, RateLimited, Refused};
use super::{ApiError, AppState};
use crate::access::{Access, AuditEntry, Principal, Session};
use crate::model::now_ms;
use crate::telemetry::InternalEvent;
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
        route: req.extensions().get::<MatchedPath>().map_or(NO_ROUTE, |m| m.as_str()).to_owned(),
        object: req.uri().path().chars().take(300).collect(),
        status: 0,
    });
    let address = client_address(req.extensions());
    let admitted = admit(&s, &mut req, address.as_deref(), writes).await;
    let principal = req.extensions().get::<Principal>().cloned();
    let response = match admitted {
        Ok(()) => next.run(req).await,
        Err(refused) => refused,
    };
    // Held back or routed nowhere, a request did nothing to record; counted
    // by the rate limit, it cannot fill the log either.
    let unrouted = entry.as_ref().is_some_and(|e| e.route == NO_ROUTE);
    if response.status() == StatusCode::TOO_MANY_REQUESTS || unrouted {
        return response;
    }
    audit(&s, entry, principal, response).await
}

const NO_ROUTE: &str = "(no route)";

/// Identifies the caller within the rate limits: a refused credential
/// counts against its address (past the limit the answer is 429, so
/// guessing gets slow); a good one is never held back. Writes count against
/// the principal and the address.
async fn admit(s: &AppState, req: &mut Request, address: Option<&str>, writes: bool) -> Result<(), Response> {
    let now = Instant::now();
    match identify(s, req.headers()).await {
        Ok(Some((p, credential))) => {
            req.extensions_mut().insert(p);
            req.extensions_mut().insert(credential);
        }
        Ok(None) => {}
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            CredentialRefused { kind: Refused::Bearer, address, name: None, why: &e.message }.emit(&s.api_metrics);
            if let Some(a) = address {
                s.limits
                    .failed_auth
                    .take(&format!("a:{a}"), now)
                    .map_err(|w| held_back(s, address, w).into_response())?;
            }
            return Err(e.into_response());
        }
        Err(e) => return Err(e.into_response()),
    }
    if writes {
        check_csrf(req).map_err(IntoResponse::into_response)?;
        let who = req.extensions().get::<Principal>().map(|p| format!("p:{}:{}", p.role, p.name));
        for key in who.into_iter().chain(address.map(|a| format!("a:{a}"))) {
            s.limits.writes.take(&key, now).map_err(|w| held_back(s, address, w).into_response())?;
        }
    }
    Ok(())
}

/// 429, counted.
pub(super) fn held_back(s: &AppState, address: Option<&str>, wait: Duration) -> ApiError {
    RateLimited { address }.emit(&s.api_metrics);
    ApiError::rate_limited(wait)
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A bearer token: no cookie, so no cross-site request can carry it.
    Token,
    /// The console's session cookie, which a browser attaches to any
    /// request: its writes must also carry the session's CSRF token.
    Session(Session),
}

/// A session's write without its `X-CSRF-Token` is refused (signing in
/// again needs none).
fn check_csrf(req: &Request) -> Result<(), ApiError> {
    let Some(Credential::Session(session)) = req.extensions().get::<Credential>() else { return Ok(()) };
    let login = req.extensions().get::<MatchedPath>().is_some_and(|m| m.as_str() == super::session::LOGIN);
    let sent = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok());
    if login || sent == Some(session.csrf.as_str()) {
        return Ok(());
    }
    Err(ApiError::forbidden("a write in a console session carries the session's X-CSRF-Token"))
}

/// The client's address as rate limits count it, when the server knows it
/// (not in router tests): an IPv4 address, or an IPv6 /64 (one host holds
/// a whole /64, and could rotate through it).
pub fn client_address(extensions: &axum::http::Extensions) -> Option<String> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| match c.0.ip() {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => {
            let s = ip.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    })
}

/// The client's IP address as an extractor.
pub struct ClientAddress(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(&parts.extensions)))
    }
}

/// The principal a request's bearer token, or else its session cookie,
/// stands for. A bad token is refused; a cookie whose session has ended
/// leaves the caller anonymous (public pages still load).
async fn identify(s: &AppState, headers: &HeaderMap) -> Result<Option<(Principal, Credential)>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        let Some(secret) = super::session::cookie(headers) else { return Ok(None) };
        let session = s.users.session(secret, now_ms()).await?;
        return Ok(session.map(|session| (session.principal.clone(), Credential::Session(session))));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")))
        .map(|(_, token)| token)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must read `Bearer <token>`"))?;
    let token = token.trim();
    if let Some(oidc) = s.oidc.as_ref().filter(|_| !token.starts_with(crate::access::TOKEN_PREFIX)) {
        return Ok(Some((oidc.verify(token).await?, Credential::Token)));
    }
    match s.tokens.principal(token).await? {
        Some(p) => Ok(Some((p, Credential::Token))),
        None => Err(ApiError::unauthorized("unknown or revoked token")),
    }
}

/// Writes the audit entry of a write (a failure to is logged, and the
/// answer already given stands).
async fn audit(s: &AppState, entry: Option<AuditEntry>, who: Option<Principal>, response: Response) -> Response {
    // Signing in names its principal on the answer.
    let who = who.or_else(|| response.extensions().get::<Principal>().cloned());
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
    let refused = match (access, req.extensions().get::<Principal>()) {
        (Access::Public, _) => None,
        (_, None) => Some(ApiError::unauthorized("this route needs a bearer token or a console session")),
        (Access::Requires(action), Some(p)) if !p.may(action) => {
            Some(ApiError::forbidden(format!("a {} may not {}", p.role, action.as_str().replace('_', " "))))
        }
        (Access::Signed | Access::Requires(_), Some(_)) => None,
    };
    match refused {
        Some(e) => e.into_response(),
        None => next.run(req).await,
    }
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
