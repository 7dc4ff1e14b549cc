//! The console's sign-in: a name and password (Argon2id) give a session
//! cookie (HttpOnly, SameSite=Strict, Secure behind TLS) and the CSRF token
//! its writes carry; failed sign-ins count against the address and the
//! name. A signed-in caller can ask who they are.

use super::auth::{ClientAddress, Credential};
use super::extract::Json;
use super::internal_events::{CredentialRefused, Refused, SignedIn};
use super::{ApiError, AppState};
use crate::access::Principal;
use crate::model::now_ms;
use crate::telemetry::InternalEvent;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use serde_json::json;
use std::time::Instant;

/// The sign-in route (a write that needs no CSRF token).
pub const LOGIN: &str = "/api/v1/login";
const COOKIE: &str = "upkeep_session";
/// The name over TLS: a `__Host-` cookie is Secure, host-only and for `/`,
/// so a sibling subdomain cannot plant one.
const SECURE_COOKIE: &str = "__Host-upkeep_session";
/// Longer names or passwords are refused unread (no rate-limit key, no hashing).
const MAX_NAME: usize = 100;
const MAX_PASSWORD: usize = 1024;

/// The session secret in the request's cookie, if any.
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let c = c.trim();
            c.strip_prefix(SECURE_COOKIE).or_else(|| c.strip_prefix(COOKIE))?.strip_prefix('=')
        })
        .filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    name: String,
    password: String,
}

pub async fn login(
    State(s): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Json(b): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let refused = || ApiError::unauthorized("unknown name or wrong password");
    if b.name.len() > MAX_NAME || b.password.len() > MAX_PASSWORD {
        return Err(refused());
    }
    // Every attempt is charged before the password is checked, so parallel
    // guesses cannot slip past: per address, and per name from that address
    // (a name alone would let anyone lock its owner out).
    let now = Instant::now();
    let keys = address.iter().flat_map(|a| [format!("a:{a}"), format!("n:{}@{a}", b.name)]);
    for key in keys {
        s.limits.failed_auth.take(&key, now).map_err(|wait| super::auth::held_back(&s, address.as_deref(), wait))?;
    }
    let ttl = s.session_ttl.as_millis();
    let Some(session) = s.users.sign_in(&b.name, &b.password, now_ms(), ttl).await? else {
        let why = "unknown name or wrong password";
        let event = CredentialRefused { kind: Refused::SignIn, address: address.as_deref(), name: Some(&b.name), why };
        event.emit(&s.api_metrics);
        return Err(refused());
    };
    SignedIn { name: &session.principal.name, role: session.principal.role }.emit(&s.api_metrics);
    let secure = s.secure_cookies || headers.get("x-forwarded-proto").is_some_and(|p| p == "https");
    let cookie = set_cookie(secure, &session.secret, ttl / 1000);
    let body = whoami_body(&session.principal, Some(&session.csrf));
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("an ASCII cookie"));
    response.extensions_mut().insert(session.principal);
    Ok(response)
}

/// The session cookie's header value: under its `__Host-` name and Secure
/// over TLS; `max_age` 0 expires it.
fn set_cookie(secure: bool, secret: &str, max_age: i64) -> String {
    let (name, flag) = if secure { (SECURE_COOKIE, "; Secure") } else { (COOKIE, "") };
    format!("{name}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{flag}")
}

/// Ends the caller's session (a token stays valid until revoked).
pub async fn logout(
    State(s): State<AppState>,
    Extension(credential): Extension<Credential>,
) -> Result<Response, ApiError> {
    if let Credential::Session(session) = credential {
        s.users.sign_out(&session.secret).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    for expired in [set_cookie(false, "", 0), set_cookie(true, "", 0)] {
        response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&expired).expect("an ASCII cookie"));
    }
    Ok(response)
}

/// Who the caller is; a session's CSRF token too (the console reads it after a reload).
pub async fn whoami(p: Principal, Extension(credential): Extension<Credential>) -> axum::Json<serde_json::Value> {
    let csrf = match &credential {
        Credential::Session(session) => Some(session.csrf.as_str()),
        Credential::Token => None,
    };
    axum::Json(whoami_body(&p, csrf))
}

fn whoami_body(p: &Principal, csrf: Option<&str>) -> serde_json::Value {
    json!({ "name": p.name, "role": p.role, "engineer_id": p.engineer(), "customer": p.customer(), "csrf_token": csrf })
}
