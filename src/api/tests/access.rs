//! Who may do what, through the router: every route's policy, the role by
//! route matrix (checked against `access_matrix.txt`), scoping to one's own
//! tickets and units, identity-made actors, tokens and the audit log.

use super::*;
use crate::access::Access;
use crate::api::{ApiConfig, Limits};
use axum::http::Method;
use std::fmt::Write;

/// A route's path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "NOPE-1").replace("{code}", "nope").replace("{name}", "nobody")
}

async fn status_as(h: &Harness, role: Option<Role>, route: &Route) -> StatusCode {
    let body = (route.method != Method::GET).then(|| json!({}));
    call_as(h, role, route.method.as_str(), &concrete(route.path), body).await.0
}

#[tokio::test]
async fn without_a_token_only_the_public_routes_answer() {
    let h = harness().await;
    for route in routes() {
        let status = status_as(&h, None, &route).await;
        match route.access {
            Access::Public => assert_ne!(status, StatusCode::UNAUTHORIZED, "{} {}", route.method, route.path),
            Access::Signed | Access::Requires(_) => {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {}", route.method, route.path)
            }
        }
    }
    let req = Request::builder().uri("/api/v1/tickets").body(Body::empty()).unwrap();
    let resp = app(h.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn an_unknown_malformed_or_revoked_token_is_refused() {
    let h = harness().await;
    for header in ["Bearer upk_0000", "Basic YTpi", "Bearer "] {
        let req = Request::builder().uri("/api/v1/tickets").header("authorization", header);
        let resp = app(h.state.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{header}");
    }
    let listed = h.state.tokens.list().await.unwrap();
    let dispatcher = listed.iter().find(|t| t.role == Role::Dispatcher).unwrap();
    h.state.tokens.revoke(&dispatcher.id, 1).await.unwrap();
    let (status, _) = call_as(&h, Some(Role::Dispatcher), "GET", "/api/v1/tickets", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Every role against every route: allowed means neither 401 nor 403. The
/// observed matrix must equal the policy table and the reviewed
/// `access_matrix.txt` (`UPKEEP_BLESS=1` rewrites it).
#[tokio::test]
async fn each_role_can_do_exactly_what_the_policy_table_says() {
    let h = harness().await;
    let mut matrix = String::from("# route: the roles allowed (every other role gets 403, no token 401)\n");
    for route in routes() {
        let mut allowed = Vec::new();
        for role in Role::ALL {
            let status = status_as(&h, Some(role), &route).await;
            let ok = status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED;
            let expected = match route.access {
                Access::Public | Access::Signed => true,
                Access::Requires(a) => a.roles().contains(&role),
            };
            assert_eq!(ok, expected, "{role} on {} {}: {status}", route.method, route.path);
            if ok {
                allowed.push(role.as_str());
            }
        }
        let who = if route.access == Access::Public { "anyone".to_owned() } else { allowed.join(" ") };
        writeln!(matrix, "{} {}: {who}", route.method, route.path).unwrap();
    }
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api/tests/access_matrix.txt");
    if std::env::var("UPKEEP_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&golden, &matrix).unwrap();
    }
    assert_eq!(matrix, std::fs::read_to_string(&golden).unwrap(), "the matrix changed: review, then UPKEEP_BLESS=1");
}

#[tokio::test]
async fn an_engineer_sees_and_works_only_the_tickets_they_hold() {
    let h = harness().await;
    let (own, other) = (open_ticket(&h).await, begin_ticket_on(&h, 1).await.commit().await.unwrap().to_string());
    let engineers = h.state.fleet.engineers();
    let (me, colleague) = (engineers[0].id.to_string(), engineers[1].id.to_string());
    for (ticket, engineer) in [(&own, &me), (&other, &colleague)] {
        let uri = format!("/api/v1/tickets/{ticket}/reassign");
        let (status, body) = call(&h, "POST", &uri, Some(json!({"engineer_id": engineer}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let eng = Some(Role::Engineer);
    let (_, list) = call_as(&h, eng, "GET", "/api/v1/tickets", None).await;
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, [own.as_str()], "{list}");
    let (_, list) = call_as(&h, eng, "GET", &format!("/api/v1/tickets?engineer={colleague}"), None).await;
    assert_eq!(list["items"], json!([]), "asking for a colleague's tickets shows none");
    let (status, detail) = call_as(&h, eng, "GET", &format!("/api/v1/tickets/{own}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.get("progress_code").is_none(), "the customer's key is not the engineer's: {detail}");
    for (method, path, body) in [
        ("GET", format!("/api/v1/tickets/{other}"), None),
        ("POST", format!("/api/v1/tickets/{other}/transition"), Some(json!({"to": "accepted"}))),
        ("POST", format!("/api/v1/engineers/{colleague}/position"), Some(json!({"lat": 1.0, "lon": 1.0}))),
        ("POST", format!("/api/v1/engineers/{colleague}/unavailable"), Some(json!({"reason": "x"}))),
    ] {
        let (status, _) = call_as(&h, eng, method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: another's object does not exist for them");
    }
    let cancel = json!({"to": "cancelled"});
    let (status, _) = call_as(&h, eng, "POST", &format!("/api/v1/tickets/{own}/transition"), Some(cancel)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "cancelling is the office's");
    let accept = json!({"to": "accepted"});
    let (status, t) = call_as(&h, eng, "POST", &format!("/api/v1/tickets/{own}/transition"), Some(accept)).await;
    assert_eq!((status, t["state"].as_str()), (StatusCode::OK, Some("accepted")), "{t}");
    assert!(t.get("progress_code").is_none(), "nor in the answer to a step: {t}");
    let (_, detail) = call(&h, "GET", &format!("/api/v1/tickets/{own}"), None).await;
    assert_eq!(detail["events"].as_array().unwrap().last().unwrap()["actor"], me, "the step is the engineer's own");
    let (_, list) = call_as(&h, eng, "GET", "/api/v1/engineers", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "an engineer sees their own record only: {list}");
}

#[tokio::test]
async fn a_customer_sees_its_own_units_and_tickets_and_nothing_of_another() {
    let h = harness().await;
    let assets = h.state.fleet.assets();
    let mine = assets[0].customer.clone();
    let theirs = assets.iter().position(|a| a.customer != mine).expect("two customers in the fleet");
    let (own, other) = (open_ticket(&h).await, begin_ticket_on(&h, theirs).await.commit().await.unwrap().to_string());
    let cust = Some(Role::Customer);
    let (_, list) = call_as(&h, cust, "GET", "/api/v1/tickets", None).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["ticket"], own.as_str());
    let (status, t) = call_as(&h, cust, "GET", &format!("/api/v1/tickets/{own}"), None).await;
    assert_eq!(status, StatusCode::OK);
    for internal in ["evidence", "assignment_note", "engineer_id", "events", "parts"] {
        assert!(t.get(internal).is_none(), "{internal} is internal: {t}");
    }
    assert!(t["progress_code"].is_string() && t["history"].is_array(), "{t}");
    for (method, path, body) in [
        ("GET", format!("/api/v1/tickets/{other}"), None),
        ("POST", format!("/api/v1/tickets/{other}/quote/accept"), Some(json!({}))),
        ("POST", format!("/api/v1/tickets/{other}/follow-up"), Some(json!({"rating": 1}))),
        ("GET", format!("/api/v1/assets/{}", assets[theirs].id), None),
    ] {
        let (status, _) = call_as(&h, cust, method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: another customer's object does not exist for it");
    }
    let (_, units) = call_as(&h, cust, "GET", "/api/v1/assets?limit=1000", None).await;
    assert!(units["items"].as_array().unwrap().iter().all(|a| a["customer"] == mine.as_str()), "{units}");
    let (_, staff) = call(&h, "GET", "/api/v1/tickets", None).await;
    assert_eq!(staff["items"].as_array().unwrap().len(), 2, "staff see both");
}

#[tokio::test]
async fn the_actor_comes_from_the_token_and_a_body_cannot_name_one() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let uri = format!("/api/v1/tickets/{id}/transition");
    let (status, _) = call(&h, "POST", &uri, Some(json!({"to": "cancelled", "actor": "customer: attacker"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "actor is not a field any more");
    let (status, _) = call(&h, "POST", &uri, Some(json!({"to": "cancelled"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, t) = call(&h, "GET", &format!("/api/v1/tickets/{id}"), None).await;
    assert_eq!(t["events"].as_array().unwrap().last().unwrap()["actor"], "test supervisor");
}

#[tokio::test]
async fn admins_issue_list_and_revoke_tokens_and_the_secret_is_shown_once() {
    let h = harness().await;
    let admin = Some(Role::Admin);
    let body = json!({"name": "Ops desk", "role": "operations"});
    let (status, issued) = call_as(&h, admin, "POST", "/api/v1/tokens", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let token = issued["token"].as_str().unwrap().to_owned();
    let req = Request::builder().uri("/metrics").header("authorization", format!("Bearer {token}"));
    let resp = app(h.state.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "the new token works at once");
    let (_, list) = call_as(&h, admin, "GET", "/api/v1/tokens", None).await;
    assert!(!list.to_string().contains(&token[4..]), "a listing never shows a secret");
    let revoke = format!("/api/v1/tokens/{}", issued["id"].as_str().unwrap());
    assert_eq!(call_as(&h, admin, "DELETE", &revoke, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call_as(&h, admin, "DELETE", &revoke, None).await.0, StatusCode::NOT_FOUND);
    for bad in [
        json!({"name": "x", "role": "engineer"}),
        json!({"name": "x", "role": "engineer", "engineer_id": "ENG-NOBODY"}),
        json!({"name": "x", "role": "customer", "customer": "Nobody Ltd"}),
        json!({"name": "x", "role": "root"}),
    ] {
        let (status, body) = call_as(&h, admin, "POST", "/api/v1/tokens", Some(bad.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
}

#[tokio::test]
async fn every_write_is_audited_with_who_what_and_the_outcome() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let uri = format!("/api/v1/tickets/{id}/transition");
    call_as(&h, None, "POST", &uri, Some(json!({"to": "cancelled"}))).await;
    call_as(&h, Some(Role::Operations), "POST", &uri, Some(json!({"to": "cancelled"}))).await;
    call(&h, "POST", &uri, Some(json!({"to": "cancelled"}))).await;
    call(&h, "GET", "/api/v1/tickets", None).await;
    let (_, log) = call_as(&h, Some(Role::Admin), "GET", "/api/v1/audit", None).await;
    let seen: Vec<(Value, Value, Value)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(
                (e["route"].as_str(), e["object"].as_str()),
                (Some("/api/v1/tickets/{id}/transition"), Some(uri.as_str()))
            );
            (e["principal"].clone(), e["role"].clone(), e["status"].clone())
        })
        .collect();
    assert_eq!(seen.len(), 3, "reads are not audited: {log}");
    for expected in [
        (Value::Null, Value::Null, json!(401)),
        (json!("test operations"), json!("operations"), json!(403)),
        (json!("test supervisor"), json!("supervisor"), json!(200)),
    ] {
        assert!(seen.contains(&expected), "{expected:?} in {seen:?}");
    }
    assert!(!log.to_string().contains("upk_"), "no token reaches the log");
}

/// A call from `address` with `token`.
async fn from(h: &Harness, address: [u8; 4], token: &str, method: &str, uri: &str) -> axum::response::Response {
    let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    req = req.header("authorization", format!("Bearer {token}"));
    let body = if method == "GET" { Body::empty() } else { Body::from(json!({"to": "cancelled"}).to_string()) };
    let mut req = req.body(body).unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((address, 40_000))));
    app(h.state.clone()).oneshot(req).await.unwrap()
}

#[tokio::test]
async fn writes_and_bad_tokens_are_rate_limited_with_a_time_to_come_back() {
    let mut h = harness().await;
    let config = ApiConfig { writes_per_minute: 3, failed_auth_per_minute: 2, ..Default::default() };
    h.state.limits = Arc::new(Limits::new(&config));
    let id = open_ticket(&h).await;
    let uri = format!("/api/v1/tickets/{id}/transition");
    let supervisor = h.tokens[&Role::Supervisor].clone();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(from(&h, [10, 0, 0, 1], &supervisor, "POST", &uri).await);
    }
    let last = seen.pop().unwrap();
    assert!(seen.iter().all(|r| r.status() != StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(last.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(last.headers()["retry-after"], "20", "one write comes back every 20 s");
    let dispatcher = h.tokens[&Role::Dispatcher].clone();
    let other = from(&h, [10, 0, 0, 1], &dispatcher, "POST", &uri).await;
    assert_eq!(other.status(), StatusCode::TOO_MANY_REQUESTS, "the address is over its limit too");
    let elsewhere = from(&h, [10, 0, 0, 2], &dispatcher, "POST", &uri).await;
    assert_ne!(elsewhere.status(), StatusCode::TOO_MANY_REQUESTS, "another principal from another address");
    assert_eq!(
        from(&h, [10, 0, 0, 1], &supervisor, "GET", "/api/v1/tickets").await.status(),
        StatusCode::OK,
        "reads are not writes"
    );

    for _ in 0..2 {
        let r = from(&h, [10, 0, 0, 9], "upk_guess", "GET", "/api/v1/tickets").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = from(&h, [10, 0, 0, 9], "upk_guess", "GET", "/api/v1/tickets").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "a third guess from the address waits");
    assert!(r.headers().contains_key("retry-after"));
    let r = from(&h, [10, 0, 0, 9], &supervisor, "GET", "/api/v1/tickets").await;
    assert_eq!(r.status(), StatusCode::OK, "a good token behind the same proxy is never held back");
}

/// A request carrying `cookie` (and `csrf` when given).
async fn with_cookie(
    h: &Harness,
    cookie: &str,
    csrf: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> axum::response::Response {
    let mut req =
        Request::builder().method(method).uri(uri).header("content-type", "application/json").header("cookie", cookie);
    if let Some(csrf) = csrf {
        req = req.header("x-csrf-token", csrf);
    }
    let req = req.body(body.map_or(Body::empty(), |b| Body::from(b.to_string()))).unwrap();
    app(h.state.clone()).oneshot(req).await.unwrap()
}

async fn sign_in(h: &Harness, password: &str, https: bool) -> axum::response::Response {
    let mut req = Request::builder().method("POST").uri("/api/v1/login").header("content-type", "application/json");
    if https {
        req = req.header("x-forwarded-proto", "https");
    }
    let body = json!({"name": "ann", "password": password}).to_string();
    let mut req = req.body(Body::from(body)).unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([10, 0, 0, 7], 40_000))));
    app(h.state.clone()).oneshot(req).await.unwrap()
}

#[tokio::test]
async fn the_console_signs_in_with_a_password_and_its_writes_carry_the_csrf_token() {
    let h = harness().await;
    let ann = crate::access::Principal::new("ann", Role::Dispatcher, None, None).unwrap();
    h.state.users.add(&ann, "correct horse battery", 0).await.unwrap();
    let signed = sign_in(&h, "correct horse battery", false).await;
    assert_eq!(signed.status(), StatusCode::OK);
    let set = signed.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"), "{set}");
    let body = signed.into_body().collect().await.unwrap().to_bytes();
    let me: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((me["name"].as_str(), me["role"].as_str()), (Some("ann"), Some("dispatcher")));
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let cookie = set.split(';').next().unwrap().to_owned();
    let over_tls = sign_in(&h, "correct horse battery", true).await;
    let over_tls = over_tls.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(over_tls.starts_with("__Host-upkeep_session=") && over_tls.ends_with("; Secure"), "{over_tls}");
    let tls_cookie = over_tls.split(';').next().unwrap().to_owned();
    assert_eq!(with_cookie(&h, &tls_cookie, None, "GET", "/api/v1/tickets", None).await.status(), StatusCode::OK);

    assert_eq!(with_cookie(&h, &cookie, None, "GET", "/api/v1/tickets", None).await.status(), StatusCode::OK);
    let id = open_ticket(&h).await;
    let uri = format!("/api/v1/tickets/{id}/transition");
    let cancel = || Some(json!({"to": "cancelled"}));
    let forged = with_cookie(&h, &cookie, None, "POST", &uri, cancel()).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "a cross-site write has the cookie but not the token");
    let wrong = with_cookie(&h, &cookie, Some("0000"), "POST", &uri, cancel()).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(with_cookie(&h, &cookie, Some(&csrf), "POST", &uri, cancel()).await.status(), StatusCode::OK);
    let who = with_cookie(&h, &cookie, None, "GET", "/api/v1/session", None).await;
    let who: Value = serde_json::from_slice(&who.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(who["csrf_token"], csrf.as_str(), "a reloaded console finds its token");

    let (_, log) = call_as(&h, Some(Role::Admin), "GET", "/api/v1/audit", None).await;
    let login = log["items"].as_array().unwrap().iter().find(|e| e["route"] == "/api/v1/login").unwrap();
    assert_eq!((login["principal"].as_str(), login["status"].as_i64()), (Some("ann"), Some(200)), "{login}");
    let out = with_cookie(&h, &cookie, Some(&csrf), "POST", "/api/v1/logout", None).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(with_cookie(&h, &cookie, None, "GET", "/api/v1/tickets", None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        with_cookie(&h, &cookie, None, "GET", "/health", None).await.status(),
        StatusCode::OK,
        "an ended session is anonymous"
    );
}

#[tokio::test]
async fn failed_sign_ins_are_refused_alike_and_then_held_back() {
    let mut h = harness().await;
    let config = ApiConfig { failed_auth_per_minute: 3, ..Default::default() };
    h.state.limits = Arc::new(Limits::new(&config));
    let ann = crate::access::Principal::new("ann", Role::Dispatcher, None, None).unwrap();
    h.state.users.add(&ann, "correct horse battery", 0).await.unwrap();
    for _ in 0..3 {
        assert_eq!(sign_in(&h, "wrong password", false).await.status(), StatusCode::UNAUTHORIZED);
    }
    let held = sign_in(&h, "correct horse battery", false).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits now");
    assert!(held.headers().contains_key("retry-after"));
}

const ISSUER: &str = "https://idp.example";

fn oidc_config(jwks: String) -> crate::access::OidcConfig {
    crate::access::OidcConfig { issuer: ISSUER.into(), jwks, ..Default::default() }
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oidc").join(name)
}

/// A JWT signed with the fixture key, with `claims` over a valid base.
fn jwt(claims: Value) -> String {
    let mut all = json!({"iss": ISSUER, "aud": "upkeep", "exp": crate::model::now_ms() / 1000 + 600,
                         "sub": "u-1", "preferred_username": "Mei Chen", "upkeep_role": "dispatcher"});
    all.as_object_mut().unwrap().extend(claims.as_object().unwrap().clone());
    all.as_object_mut().unwrap().retain(|_, v| !v.is_null());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-1".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(fixture("test-key.pem")).unwrap()).unwrap();
    jsonwebtoken::encode(&header, &all, &key).unwrap()
}

async fn get_with(h: &Harness, bearer: &str, uri: &str) -> (StatusCode, Value) {
    let req = Request::builder().uri(uri).header("authorization", format!("Bearer {bearer}"));
    let resp = app(h.state.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    (status, serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_jwt_from_the_identity_provider_is_checked_and_its_claims_give_the_role() {
    let mut h = harness().await;
    let jwks = fixture("jwks.json").display().to_string();
    h.state.oidc = crate::access::Verifier::new(&oidc_config(jwks)).await.unwrap().map(Arc::new);
    let (status, me) = get_with(&h, &jwt(json!({})), "/api/v1/session").await;
    assert_eq!(
        (status, me["name"].as_str(), me["role"].as_str()),
        (StatusCode::OK, Some("Mei Chen"), Some("dispatcher"))
    );
    let engineer = h.state.fleet.engineers()[0].id.to_string();
    let (_, me) =
        get_with(&h, &jwt(json!({"upkeep_role": "engineer", "upkeep_engineer": engineer})), "/api/v1/session").await;
    assert_eq!(me["engineer_id"], engineer.as_str());
    let (status, _) = get_with(&h, &h.tokens[&Role::Admin], "/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK, "API tokens still work beside JWTs");

    let mut hmac = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hmac.kid = Some("test-1".into());
    let jwks_text = std::fs::read(fixture("jwks.json")).unwrap();
    let claims = json!({"iss": ISSUER, "aud": "upkeep", "exp": 4_000_000_000_u64, "upkeep_role": "admin", "sub": "x"});
    let forged = jsonwebtoken::encode(&hmac, &claims, &jsonwebtoken::EncodingKey::from_secret(&jwks_text)).unwrap();
    for (why, bad) in [
        ("another audience", jwt(json!({"aud": "someone-else"}))),
        ("another issuer", jwt(json!({"iss": "https://evil.example"}))),
        ("expired", jwt(json!({"exp": 1_000_000_000}))),
        ("no role", jwt(json!({"upkeep_role": null}))),
        ("an unknown role", jwt(json!({"upkeep_role": "root"}))),
        ("an engineer naming nobody", jwt(json!({"upkeep_role": "engineer"}))),
        ("HMAC over the public key", forged),
        ("not a JWT", "eyJnot.a.jwt".to_owned()),
    ] {
        let (status, body) = get_with(&h, &bad, "/api/v1/tickets").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
    }
}

#[tokio::test]
async fn the_provider_keys_come_from_its_url_and_a_wrong_source_stops_the_start() {
    let keys = std::fs::read_to_string(fixture("jwks.json")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let served = axum::Router::new().route("/jwks", axum::routing::get(move || async move { keys }));
    tokio::spawn(async move { axum::serve(listener, served).await });
    let mut h = harness().await;
    h.state.oidc = crate::access::Verifier::new(&oidc_config(url)).await.unwrap().map(Arc::new);
    assert_eq!(get_with(&h, &jwt(json!({})), "/api/v1/tickets").await.0, StatusCode::OK);
    let plain = oidc_config("http://idp.example/jwks".into());
    let err = crate::access::Verifier::new(&plain).await.unwrap_err().to_string();
    assert!(err.contains("keys come over https"), "{err}");
    let missing = oidc_config("/nonexistent/jwks.json".into());
    let err = crate::access::Verifier::new(&missing).await.unwrap_err().to_string();
    assert!(err.contains("oidc.jwks /nonexistent/jwks.json"), "{err}");
    assert!(crate::access::Verifier::new(&Default::default()).await.unwrap().is_none(), "no issuer, no JWTs");
}

#[tokio::test]
async fn admins_add_list_and_disable_console_users() {
    let h = harness().await;
    let admin = Some(Role::Admin);
    let ann = json!({"name": "ann", "role": "dispatcher", "password": "correct horse battery"});
    assert_eq!(call_as(&h, admin, "POST", "/api/v1/users", Some(ann.clone())).await.0, StatusCode::CREATED);
    let (status, _) = call_as(&h, admin, "POST", "/api/v1/users", Some(ann)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "names are unique");
    let short = json!({"name": "bob", "role": "dispatcher", "password": "short"});
    assert_eq!(call_as(&h, admin, "POST", "/api/v1/users", Some(short)).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(sign_in(&h, "correct horse battery", false).await.status(), StatusCode::OK);
    let (_, list) = call_as(&h, admin, "GET", "/api/v1/users", None).await;
    assert_eq!(list["items"][0]["name"], "ann");
    assert!(!list.to_string().contains("argon2"), "no hash is listed: {list}");
    assert_eq!(call_as(&h, admin, "DELETE", "/api/v1/users/ann", None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(sign_in(&h, "correct horse battery", false).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(call_as(&h, admin, "DELETE", "/api/v1/users/ann", None).await.0, StatusCode::NOT_FOUND);
}

/// Everything the engine logs, at every level, into one buffer.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_token_password_or_cookie_reaches_the_log() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = harness().await;
    let ann = crate::access::Principal::new("ann", Role::Dispatcher, None, None).unwrap();
    h.state.users.add(&ann, "correct horse battery", 0).await.unwrap();
    sign_in(&h, "wrong password here", false).await;
    let signed = sign_in(&h, "correct horse battery", false).await;
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (_, issued) =
        call_as(&h, Some(Role::Admin), "POST", "/api/v1/tokens", Some(json!({"name": "x", "role": "admin"}))).await;
    let id = open_ticket(&h).await;
    with_cookie(
        &h,
        &cookie,
        None,
        "POST",
        &format!("/api/v1/tickets/{id}/transition"),
        Some(json!({"to": "cancelled"})),
    )
    .await;
    get_with(&h, "upk_not_a_real_token", "/api/v1/tickets").await;
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    for line in ["credential refused", "kind=\"sign_in\"", "kind=\"bearer\"", "signed in", "API token issued"] {
        assert!(text.contains(line), "the log tells what happened ({line}):\n{text}");
    }
    let secret = cookie.split('=').nth(1).unwrap();
    for (what, value) in [
        ("a password", "correct horse battery"),
        ("a wrong password", "wrong password here"),
        ("a cookie", secret),
        ("an issued token", issued["token"].as_str().unwrap()),
        ("a presented token", "upk_not_a_real_token"),
        ("a harness token", &h.tokens[&Role::Supervisor][4..]),
    ] {
        assert!(!text.contains(value), "{what} is in the log:\n{text}");
    }
    let req =
        Request::builder().uri("/metrics").header("authorization", format!("Bearer {}", h.tokens[&Role::Operations]));
    let resp = app(h.state.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let text = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("upkeep_api_credentials_refused_total{kind=\"bearer\"} 1"), "{text}");
    assert!(text.contains("upkeep_api_credentials_refused_total{kind=\"sign_in\"} 1"), "{text}");
    assert!(!text.contains(secret) && !text.contains("upk_"), "no secret in the metrics");
}
