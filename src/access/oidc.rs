//! Bearer JWTs from the company's identity provider (OIDC): the signature
//! checked against the provider's keys (a JWKS file, or a URL fetched at
//! start and again after `jwks_refresh` or for a key id not seen yet),
//! issuer, audience and expiry checked, and claims mapped to the role, the
//! name and whom the person speaks for.

use super::{AccessError, Principal, Role};
use crate::model::{EngineerId, Span};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::RwLock;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer (`iss`); empty, and JWTs are not accepted.
    pub issuer: String,
    /// This API as the provider names it in `aud`.
    pub audience: String,
    /// The provider's signing keys: a JWKS file, or an `https://` URL.
    pub jwks: String,
    /// The claim holding the role: admin, supervisor, dispatcher, engineer, operations or customer.
    pub role_claim: String,
    /// The claim naming the person (histories, the audit log); `sub` when absent.
    pub name_claim: String,
    /// The claim naming the engineer, for the engineer role.
    pub engineer_claim: String,
    /// The claim naming the customer (as the fleet file does), for the customer role.
    pub customer_claim: String,
    /// How long fetched keys are used before the URL is read again.
    pub jwks_refresh: Span,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuer: String::new(),
            audience: "upkeep".into(),
            jwks: String::new(),
            role_claim: "upkeep_role".into(),
            name_claim: "preferred_username".into(),
            engineer_claim: "upkeep_engineer".into(),
            customer_claim: "upkeep_customer".into(),
            jwks_refresh: Span::from_hours(1),
        }
    }
}

/// The URL is fetched again (stale keys, an unknown key id) at most this
/// often, whatever the outcome: a provider that is down costs one request a
/// minute, not one per API call.
const REFETCH_AT_MOST: Duration = Duration::from_secs(60);

/// Checks JWTs against the provider's keys.
#[derive(Debug)]
pub struct Verifier {
    config: OidcConfig,
    keys: RwLock<Keys>,
    http: reqwest::Client,
}

#[derive(Debug)]
struct Keys {
    set: JwkSet,
    fetched: Instant,
    /// The last fetch begun, done or not: one at a time, at most every minute.
    tried: Instant,
}

impl Verifier {
    /// `None` when no issuer is configured; otherwise the keys are read now,
    /// so a wrong file or URL stops the start with its reason.
    pub async fn new(config: &OidcConfig) -> Result<Option<Verifier>, AccessError> {
        if config.issuer.is_empty() {
            return Ok(None);
        }
        if config.jwks.starts_with("http://") && !loopback(&config.jwks) {
            return Err(AccessError::Invalid(format!(
                "oidc.jwks {}: keys come over https (plain http only from this machine)",
                config.jwks
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| AccessError::Invalid(format!("oidc.jwks client: {e}")))?;
        let set = fetch(&http, &config.jwks).await?;
        let now = Instant::now();
        Ok(Some(Verifier { config: config.clone(), keys: RwLock::new(Keys { set, fetched: now, tried: now }), http }))
    }

    /// The principal a JWT stands for, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Principal, AccessError> {
        let refused = |why: String| AccessError::Refused(format!("JWT refused: {why}"));
        let header = decode_header(token).map_err(|e| refused(e.to_string()))?;
        let jwk = self.key(header.kid.as_deref()).await?.ok_or_else(|| refused("no key with its kid".into()))?;
        let algorithm = algorithm_of(&jwk).ok_or_else(|| refused("the key names no signing algorithm".into()))?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| refused(e.to_string()))?;
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| refused(e.to_string()))?.claims;
        let text = |claim: &str| claims.get(claim).and_then(Value::as_str).map(str::to_owned);
        let role: Role = text(&self.config.role_claim)
            .ok_or_else(|| refused(format!("no {} claim", self.config.role_claim)))?
            .parse()
            .map_err(|e: crate::model::UnknownVariant| refused(e.to_string()))?;
        let name = text(&self.config.name_claim).or_else(|| text("sub")).unwrap_or_default();
        let engineer = text(&self.config.engineer_claim).map(EngineerId::new);
        Principal::new(&name, role, engineer, text(&self.config.customer_claim)).map_err(|e| refused(e.to_string()))
    }

    /// The key `kid` names (the only key when the token names none); a URL
    /// is read again when its keys are old, or for a kid not seen yet.
    async fn key(&self, kid: Option<&str>) -> Result<Option<Jwk>, AccessError> {
        let due = |k: &Keys, found: &Option<Jwk>| {
            let stale = k.fetched.elapsed() >= self.config.jwks_refresh.as_std() || found.is_none();
            is_url(&self.config.jwks) && stale && k.tried.elapsed() >= REFETCH_AT_MOST
        };
        {
            let held = self.keys.read().unwrap_or_else(|p| p.into_inner());
            let found = find(&held.set, kid);
            if !due(&held, &found) {
                return Ok(found);
            }
        }
        let found = {
            // One request claims the refetch (looking again: another may have
            // fetched meanwhile); the others go on with the keys held.
            let mut held = self.keys.write().unwrap_or_else(|p| p.into_inner());
            let found = find(&held.set, kid);
            if !due(&held, &found) {
                return Ok(found);
            }
            held.tried = Instant::now();
            found
        };
        match fetch(&self.http, &self.config.jwks).await {
            Ok(set) => {
                let found = find(&set, kid);
                let mut held = self.keys.write().unwrap_or_else(|p| p.into_inner());
                (held.set, held.fetched) = (set, Instant::now());
                Ok(found)
            }
            Err(error) => {
                tracing::warn!(%error, "the provider's keys could not be read again; the ones held stay in use");
                Ok(found)
            }
        }
    }
}

fn find(keys: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => keys.find(kid).cloned(),
        None if keys.keys.len() == 1 => keys.keys.first().cloned(),
        None => None,
    }
}

/// The algorithm the key is for: its `alg`, else the usual one of its type.
/// Never the token's own choice, so a token cannot pick HMAC over a public key.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters as P, EllipticCurve, KeyAlgorithm as K};
    match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(K::RS256), _) => Some(Algorithm::RS256),
        (Some(K::RS384), _) => Some(Algorithm::RS384),
        (Some(K::RS512), _) => Some(Algorithm::RS512),
        (Some(K::PS256), _) => Some(Algorithm::PS256),
        (Some(K::ES256), _) => Some(Algorithm::ES256),
        (Some(K::ES384), _) => Some(Algorithm::ES384),
        (Some(K::EdDSA), _) => Some(Algorithm::EdDSA),
        (None, P::RSA(_)) => Some(Algorithm::RS256),
        (None, P::EllipticCurve(ec)) if ec.curve == EllipticCurve::P256 => Some(Algorithm::ES256),
        (None, P::EllipticCurve(ec)) if ec.curve == EllipticCurve::P384 => Some(Algorithm::ES384),
        _ => None,
    }
}

fn is_url(source: &str) -> bool {
    source.starts_with("https://") || source.starts_with("http://")
}

fn loopback(url: &str) -> bool {
    ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|l| url.starts_with(l))
}

/// The key set from a file or a URL.
async fn fetch(http: &reqwest::Client, source: &str) -> Result<JwkSet, AccessError> {
    let unreadable = |why: String| AccessError::Invalid(format!("oidc.jwks {source}: {why}"));
    let bytes = if is_url(source) {
        let response = http.get(source).send().await.map_err(|e| unreadable(e.to_string()))?;
        let response = response.error_for_status().map_err(|e| unreadable(e.to_string()))?;
        response.bytes().await.map_err(|e| unreadable(e.to_string()))?.to_vec()
    } else {
        std::fs::read(source).map_err(|e| unreadable(e.to_string()))?
    };
    serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))
}
