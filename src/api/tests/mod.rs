use super::*;
use crate::access::{Access, Role};
use crate::db::Db;
use crate::fleet::{generate, FleetSpec};
use crate::model::{FaultCode, ModelId, RuleId, Severity, TicketKind};
use crate::tickets::{NewTicket, OpenOutcome, TicketState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

mod access;
mod people;
mod reports;

struct Harness {
    state: AppState,
    /// A live token per role; the engineer's speaks for the fleet's first
    /// engineer, the customer's for the first asset's customer.
    tokens: std::collections::HashMap<Role, String>,
    _dir: tempfile::TempDir,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("api.db").display());
    let db = Db::connect(&url.parse().expect("a database URL"), 2).await.unwrap();
    let rules = crate::rules::shipped();
    let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: 20, seed: 1 })).unwrap());
    let dispatcher = Arc::new(crate::dispatch::Dispatcher::new(Arc::clone(&fleet), Default::default()));
    db.stock().seed_stock(fleet.depots()).await.unwrap();
    let metrics = Arc::new(Metrics::default());
    metrics.ingest_running.store(1, std::sync::atomic::Ordering::Relaxed);
    let rules = Arc::new(rules);
    let redispatch = Arc::new(crate::tickets::redispatch::Redispatch::new(
        db.tickets(),
        Arc::clone(&fleet),
        Arc::clone(&rules),
        Arc::clone(&dispatcher),
        crate::sla::Sla::new(&Default::default(), &[]).unwrap(),
    ));
    let mut tokens = std::collections::HashMap::new();
    for role in Role::ALL {
        let engineer = (role == Role::Engineer).then(|| fleet.engineers()[0].id.clone());
        let customer = (role == Role::Customer).then(|| fleet.assets()[0].customer.clone());
        let p = crate::access::Principal::new(&format!("test {role}"), role, engineer, customer).unwrap();
        tokens.insert(role, db.tokens().issue(&p, 0).await.unwrap().token);
    }
    Harness {
        state: AppState::new(
            &Default::default(),
            None,
            &db,
            Arc::new(crate::tickets::fixtures::service(&db, &redispatch)),
            metrics,
        ),
        tokens,
        _dir: dir,
    }
}

/// A call as a supervisor, who may do everything on tickets.
async fn call(h: &Harness, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    call_as(h, Some(Role::Supervisor), method, uri, body).await
}

/// A call with `role`'s token, or none.
async fn call_as(h: &Harness, role: Option<Role>, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some(role) = role {
        req = req.header("authorization", format!("Bearer {}", h.tokens[&role]));
    }
    let req = req.body(body.map_or(Body::empty(), |b| Body::from(b.to_string()))).unwrap();
    let resp = app(h.state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    if resp.headers().get("content-type").is_some_and(|v| v == "text/event-stream") {
        // An event stream does not end: its status is the answer here.
        return (status, Value::Null);
    }
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn open_ticket(h: &Harness) -> String {
    begin_ticket(h).await.commit().await.unwrap().to_string()
}

/// A bearing-wear ticket on the first asset, its opening not yet committed.
async fn begin_ticket(h: &Harness) -> crate::tickets::Opening {
    begin_ticket_on(h, 0).await
}

/// A bearing-wear ticket on the asset at `index`, its opening not yet committed.
async fn begin_ticket_on(h: &Harness, index: usize) -> crate::tickets::Opening {
    let asset = h.state.fleet.assets()[index].clone();
    let t = NewTicket {
        asset: asset.id.clone(),
        model: ModelId::new(asset.model.as_str()),
        fault: FaultCode::new("BEARING_WEAR"),
        rule: RuleId::new("pump.bearing_wear"),
        kind: TicketKind::Repair,
        severity: Severity::Major,
        description: "Bearing wear".into(),
        detected_at: 1_000,
        response_due: 2_000,
        on_site_due: 3_000,
        resolution_due: 4_000,
        sla_tier: "major".into(),
        evidence: json!({"checks": []}),
    };
    match h.state.tickets.begin_opening(&t, 1_000).await.unwrap() {
        crate::tickets::Begun::Opened(o) => o,
        _ => panic!("no ticket opened"),
    }
}

#[tokio::test]
async fn health_reports_the_database() {
    let h = harness().await;
    let (status, body) = call(&h, "GET", "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn health_fails_when_ingest_has_stopped() {
    let h = harness().await;
    h.state.metrics.ingest_running.store(0, std::sync::atomic::Ordering::Relaxed);
    let (status, body) = call(&h, "GET", "/health", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("ingest_stopped")));
}

#[tokio::test]
async fn unknown_routes_and_ids_are_typed_404s() {
    let h = harness().await;
    let (status, body) = call(&h, "GET", "/nope", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("no_such_route")));
    let (status, body) = call(&h, "GET", "/api/v1/tickets/TK-missing", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, body) = call(&h, "GET", "/api/v1/tickets/%FF%FE", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{body}");
    let (status, _) = call(&h, "GET", "/api/v1/assets/NOPE-1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_query_parameters_get_a_typed_400() {
    let h = harness().await;
    for uri in [
        "/api/v1/tickets?state=exploded",
        "/api/v1/tickets?limit=0",
        "/api/v1/tickets?colour=red",
        "/api/v1/dead-letters?reason=x",
    ] {
        let (status, body) = call_as(&h, Some(Role::Admin), "GET", uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(body["error"]["code"], "bad_request", "{uri}");
    }
}

#[tokio::test]
async fn a_ticket_walks_its_lifecycle_and_every_step_is_an_event() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let engineer = h.state.fleet.engineers()[0].id.to_string();
    let path = format!("/api/v1/tickets/{id}");
    let (s, t) = call(&h, "POST", &format!("{path}/reassign"), Some(json!({"engineer_id": engineer}))).await;
    assert_eq!((s, t["state"].as_str()), (StatusCode::OK, Some("assigned")));
    let note = t["assignment_note"].as_str().unwrap();
    assert!(note.contains("manual assignment by test supervisor") && note.contains("min travel"), "{note}");
    assert_eq!(t["deadline_at_risk"], true, "the test ticket's on-site deadline is long past");
    for to in ["accepted", "en_route", "on_site"] {
        let (s, t) = call(&h, "POST", &format!("{path}/transition"), Some(json!({"to": to}))).await;
        assert_eq!((s, t["state"].as_str()), (StatusCode::OK, Some(to)), "{t}");
    }
    // Resolving takes the service report.
    let (s, body) = call(&h, "POST", &format!("{path}/transition"), Some(json!({"to": "resolved"}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("report_required")));
    let incomplete = json!({"cause": "", "fix": "x", "first_time_fix": true, "repaired_at": 1});
    let (s, body) = call(&h, "POST", &format!("{path}/report"), Some(incomplete)).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_record")));
    let report = json!({"cause": "worn bearing", "fix": "bearing replaced", "prevention": "grease monthly",
        "parts_used": [], "first_time_fix": true, "repaired_at": crate::model::now_ms() - 60_000});
    let (s, t) = call(&h, "POST", &format!("{path}/report"), Some(report)).await;
    assert_eq!((s, t["state"].as_str()), (StatusCode::OK, Some("resolved")), "{t}");
    assert_eq!(
        (t["service_report"]["cause"].as_str(), t["service_report"]["late"].as_bool()),
        (Some("worn bearing"), Some(false))
    );
    let rating = json!({"rating": 5, "comment": "quick"});
    let (s, body) = call(&h, "POST", &format!("{path}/follow-up"), Some(rating.clone())).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_closed")));
    let (s, _) = call(&h, "POST", &format!("{path}/transition"), Some(json!({"to": "closed"}))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = call(&h, "POST", &format!("{path}/follow-up"), Some(json!({"rating": 6}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_record")));
    let (s, t) = call(&h, "POST", &format!("{path}/follow-up"), Some(rating.clone())).await;
    assert_eq!((s, t["follow_up"]["rating"].as_u64()), (StatusCode::OK, Some(5)), "{t}");
    let (s, body) = call(&h, "POST", &format!("{path}/follow-up"), Some(rating)).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("follow_up_exists")));
    let (_, detail) = call(&h, "GET", &path, None).await;
    let kinds: Vec<_> =
        detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        kinds,
        ["opened", "assigned", "transition", "transition", "transition", "transition", "transition", "follow_up"]
    );
    assert_eq!(detail["evidence"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_invalid_transition_is_a_409_and_changes_nothing() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let (s, body) = call(&h, "POST", &format!("/api/v1/tickets/{id}/transition"), Some(json!({"to": "on_site"}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("invalid_transition")));
    let (_, t) = call(&h, "GET", &format!("/api/v1/tickets/{id}"), None).await;
    assert_eq!(t["state"], "open");
}

#[tokio::test]
async fn malformed_bodies_and_unknown_engineers_are_rejected() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let (s, body) =
        call(&h, "POST", &format!("/api/v1/tickets/{id}/transition"), Some(json!({"note": "no target"}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")));
    let (s, _) =
        call(&h, "POST", &format!("/api/v1/tickets/{id}/reassign"), Some(json!({"engineer_id": "ENG-999"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let long = json!({"to": "cancelled", "note": "x".repeat(4001)});
    let (s, _) = call(&h, "POST", &format!("/api/v1/tickets/{id}/transition"), Some(long)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lists_filter_and_paginate() {
    let h = harness().await;
    open_ticket(&h).await;
    let (s, page) = call(&h, "GET", "/api/v1/tickets?state=open&severity=major&limit=1", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_offset"], 1);
    let (_, none) = call(&h, "GET", "/api/v1/tickets?state=closed", None).await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (_, assets) = call(&h, "GET", "/api/v1/assets?limit=5&offset=5", None).await;
    assert_eq!(assets["items"].as_array().unwrap().len(), 5);
    let (_, depots) = call(&h, "GET", "/api/v1/depots", None).await;
    assert!(!depots["items"].as_array().unwrap().is_empty());
}

/// `path` with every `${...}` or `{...}` segment as `*`, query dropped.
fn shape(path: &str) -> Vec<String> {
    let path = path.split('?').next().unwrap_or_default();
    path.split('/').map(|seg| if seg.contains('{') { "*".to_owned() } else { seg.to_owned() }).collect()
}

/// The string literal starting at `text`, up to its closing quote outside
/// any `${...}` interpolation.
fn literal_from(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            '`' | '\'' | '"' if depth == 0 => return &text[..i],
            _ => {}
        }
    }
    text
}

#[tokio::test]
async fn every_path_the_console_calls_is_a_documented_route() {
    let h = harness().await;
    let (_, doc) = call(&h, "GET", "/openapi.json", None).await;
    let routes: Vec<Vec<String>> = doc["paths"].as_object().unwrap().keys().map(|p| shape(p)).collect();
    let called: Vec<&str> = super::ui::scripts()
        .flat_map(|js| js.match_indices("/api/v1/").map(|(at, _)| literal_from(&js[at..])))
        .collect();
    assert!(called.len() >= 20, "{called:?}");
    for path in called {
        let wanted = shape(path);
        let fits = |r: &Vec<String>| {
            r.len() == wanted.len() && r.iter().zip(&wanted).all(|(a, b)| a == b || a == "*" || b == "*")
        };
        assert!(routes.iter().any(fits), "the console calls {path}, which is no route");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let h = harness().await;
    let (_, doc) = call(&h, "GET", "/openapi.json", None).await;
    let paths = doc["paths"].as_object().unwrap();
    for route in routes() {
        let method = route.method.as_str().to_lowercase();
        let op = &paths.get(route.path).unwrap_or_else(|| panic!("{} missing from openapi.json", route.path))[&method];
        assert!(op.is_object(), "{} {} missing from openapi.json", route.method, route.path);
        // The operation names the roles the policy table allows it.
        let roles: Vec<&str> = match route.access {
            Access::Public => vec![],
            Access::Signed => Role::ALL.iter().map(|r| r.as_str()).collect(),
            Access::Requires(a) => a.roles().iter().map(|r| r.as_str()).collect(),
        };
        let documented: Vec<&str> =
            op["x-roles"].as_array().map_or(vec![], |r| r.iter().filter_map(Value::as_str).collect());
        assert_eq!(documented, roles, "x-roles of {} {}", route.method, route.path);
        assert_eq!(
            op["security"] == json!([]),
            route.access == Access::Public,
            "security of {} {}",
            route.method,
            route.path
        );
    }
}

#[tokio::test]
async fn models_report_the_repair_rate_and_flag_above_seven_percent() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let db = &h.state.tickets;
    let now = crate::model::now_ms();
    let engineer = h.state.fleet.engineers()[0].id.clone();
    db.assign(&id, &engineer, "test", false, "dispatcher", now).await.unwrap();
    for to in [TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite] {
        db.transition(&id, to, "engineer", "", now).await.unwrap();
    }
    let report = crate::tickets::report::ServiceReport {
        cause: "worn bearing".into(),
        fix: "replaced".into(),
        prevention: String::new(),
        parts_used: Vec::new(),
        first_time_fix: true,
        repaired_at: now,
    };
    db.resolve_with_report(&crate::model::TicketId::new(&id), &report, "engineer", now).await.unwrap();
    let (status, body) = call(&h, "GET", "/api/v1/models", None).await;
    assert_eq!(status, StatusCode::OK);
    let repaired_model = h.state.fleet.assets()[0].model.to_string();
    let units = h.state.fleet.assets().iter().filter(|a| a.model.as_str() == repaired_model).count() as f64;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "every model of the fleet: {body}");
    for m in items {
        if m["model"] == repaired_model.as_str() {
            // One unit of a handful repaired: far above 7%.
            assert_eq!(m["repaired_units"], 1);
            assert_eq!(m["repair_rate"].as_f64(), Some(1.0 / units));
            assert_eq!(m["flagged"], true);
        } else {
            assert_eq!((m["repaired_units"].as_u64(), m["flagged"].as_bool()), (Some(0), Some(false)), "{m}");
        }
    }
}

#[tokio::test]
async fn a_quoted_ticket_waits_for_the_customers_acceptance() {
    let h = harness().await;
    let quote = crate::tickets::quote::build(
        &crate::tickets::quote::Job { parts: &[], level: 2, travel_minutes: 30.0 },
        &crate::tickets::QuoteConfig::default(),
    );
    let mut opening = begin_ticket(&h).await;
    opening.quote(&quote).await.unwrap();
    let id = opening.commit().await.unwrap().to_string();
    let db = &h.state.tickets;
    let engineer = h.state.fleet.engineers()[0].id.clone();
    db.assign(&id, &engineer, "test", false, "dispatcher", 2_000).await.unwrap();
    db.transition(&id, TicketState::Accepted, "engineer", "", 3_000).await.unwrap();
    let go = json!({"to": "en_route"});
    let (status, body) = call(&h, "POST", &format!("/api/v1/tickets/{id}/transition"), Some(go.clone())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("quote_not_accepted")));
    let accept = json!({});
    let (status, body) = call(&h, "POST", &format!("/api/v1/tickets/{id}/quote/accept"), Some(accept.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["quote_accepted_at"].is_i64() && body["quote"]["total"].as_f64() == Some(quote.total), "{body}");
    let (status, _) = call(&h, "POST", &format!("/api/v1/tickets/{id}/transition"), Some(go)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&h, "POST", &format!("/api/v1/tickets/{id}/quote/accept"), Some(accept.clone())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no_quote_to_accept")));
    let (status, _) = call(&h, "POST", "/api/v1/tickets/TK-none/quote/accept", Some(accept)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_progress_code_reveals_its_own_ticket_and_nothing_else() {
    let h = harness().await;
    let first = open_ticket(&h).await;
    let db = &h.state.tickets;
    // A second ticket on another asset, assigned with an internal note.
    let other_asset = h.state.fleet.assets()[1].clone();
    let t = NewTicket {
        asset: other_asset.id.clone(),
        model: other_asset.model.clone(),
        fault: FaultCode::new("SEAL_LEAK"),
        rule: RuleId::new("pump.seal_leak"),
        kind: TicketKind::Repair,
        severity: Severity::General,
        description: "Seal leak".into(),
        detected_at: 5_000,
        response_due: 6_000,
        on_site_due: 7_000,
        resolution_due: 8_000,
        sla_tier: "major".into(),
        evidence: json!({"checks": []}),
    };
    let OpenOutcome::Opened(second) = db.open_or_append(&t, 5_000, true).await.unwrap() else { panic!() };
    let engineer = h.state.fleet.engineers()[0].id.clone();
    db.assign(second.as_str(), &engineer, "internal: customer is difficult", false, "dispatcher", 5_500).await.unwrap();
    let code = |id: &str| {
        let db = db.clone();
        let id = id.to_owned();
        async move { db.ticket(&id).await.unwrap().unwrap().ticket.after_sales.progress_code.unwrap() }
    };
    let (a, b) = (code(&first).await, code(second.as_str()).await);
    assert_ne!(a, b);
    assert_eq!(a.len(), 16);
    let (status, body) = call(&h, "GET", &format!("/api/v1/progress/{b}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((body["ticket"].as_str(), body["state"].as_str()), (Some(second.as_str()), Some("assigned")));
    assert_eq!(body["engineer_assigned"], true);
    let states: Vec<&str> = body["history"].as_array().unwrap().iter().map(|e| e["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["open", "assigned"]);
    let text = body.to_string();
    for hidden in ["internal", engineer.as_str(), first.as_str(), "evidence", "assignment_note"] {
        assert!(!text.contains(hidden), "{hidden} leaked: {text}");
    }
    let (status, body) = call(&h, "GET", &format!("/api/v1/progress/{a}"), None).await;
    assert_eq!((status, body["ticket"].as_str()), (StatusCode::OK, Some(first.as_str())));
    for wrong in [a.to_lowercase(), format!("{a}X"), "A".repeat(200), String::new()] {
        let (status, _) = call(&h, "GET", &format!("/api/v1/progress/{wrong}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{wrong}");
    }
}

#[tokio::test]
async fn an_engineer_declines_and_the_ticket_goes_to_someone_else() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let first = h.state.fleet.engineers()[0].id.to_string();
    let reassign = json!({"engineer_id": first});
    call(&h, "POST", &format!("/api/v1/tickets/{id}/reassign"), Some(reassign)).await;
    let uri = format!("/api/v1/tickets/{id}/decline");
    let (status, body) = call(&h, "POST", &uri, Some(json!({"engineer_id": first, "reason": ""}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let other = h.state.fleet.engineers()[1].id.to_string();
    let (status, body) = call(&h, "POST", &uri, Some(json!({"engineer_id": other, "reason": "busy"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_holder")));

    let (status, body) = call(&h, "POST", &uri, Some(json!({"engineer_id": first, "reason": "no ladder"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["engineer_id"].as_str(), Some(first.as_str()), "{body}");
    let (_, detail) = call(&h, "GET", &format!("/api/v1/tickets/{id}"), None).await;
    let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.ends_with(&["declined", "assigned"]), "{kinds:?}");
    let (status, _) =
        call(&h, "POST", "/api/v1/tickets/TK-none/decline", Some(json!({"engineer_id": first, "reason": "x"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let uri = format!("/api/v1/tickets/{id}/transition");
    let (status, body) = call(&h, "POST", &uri, Some(json!({"to": "open"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "back to open only by /decline: {body}");
}

#[tokio::test]
async fn an_engineer_who_drops_out_loses_their_tickets_to_a_replan_and_can_come_back() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let sick = h.state.fleet.engineers()[0].id.to_string();
    call(&h, "POST", &format!("/api/v1/tickets/{id}/reassign"), Some(json!({"engineer_id": sick}))).await;
    let uri = format!("/api/v1/engineers/{sick}/unavailable");
    let (status, _) = call(&h, "POST", &uri, Some(json!({"reason": "x", "until": "2020-01-01T00:00:00Z"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a past return date");
    let (status, body) = call(&h, "POST", &uri, Some(json!({"reason": "off sick"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["available"].as_bool(), body["replan"]["withdrawn"].as_u64()), (Some(false), Some(1)));
    let (_, t) = call(&h, "GET", &format!("/api/v1/tickets/{id}"), None).await;
    assert_ne!(t["engineer_id"].as_str(), Some(sick.as_str()), "{t}");
    assert!(t["events"].as_array().unwrap().iter().any(|e| e["kind"] == "withdrawn"));

    let (status, body) = call(&h, "POST", &format!("/api/v1/engineers/{sick}/available"), Some(json!({}))).await;
    assert_eq!((status, body["was_absent"].as_bool()), (StatusCode::OK, Some(true)));
    let (status, _) = call(&h, "POST", "/api/v1/engineers/E-none/unavailable", Some(json!({"reason": "x"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(&h, "POST", "/api/v1/replan", Some(json!({}))).await;
    assert_eq!((status, body["replan"]["considered"].as_u64()), (StatusCode::OK, Some(1)), "{body}");
}

#[tokio::test]
async fn stock_drawn_below_safety_shows_up_as_a_replenishment_suggestion() {
    let h = harness().await;
    let depot = &h.state.fleet.depots()[0];
    let (part, &stocked) = depot.stock.iter().next().unwrap();
    let safety = i64::from(h.state.fleet.part(part).unwrap().safety_stock);
    let route = [crate::dispatch::Delivery { depot: depot.id.clone(), km: 1.0, eta: 0 }];
    let need = crate::rules::PartRef { part: part.clone(), qty: stocked.saturating_sub(1).max(1) };
    let mut opening = begin_ticket(&h).await;
    let line = opening.reserve_part(&need, &route, 1, (2, 7)).await.unwrap();
    opening.commit().await.unwrap();
    assert_eq!(line.status, crate::dispatch::PartStatus::Reserved, "{line:?}");
    let on_hand = h.state.stock.on_hand(&depot.id, part).await.unwrap();
    assert!(on_hand < safety, "{on_hand} left, safety {safety}");

    let (status, body) = call(&h, "GET", "/api/v1/parts/replenishment?limit=1000", None).await;
    assert_eq!(status, StatusCode::OK);
    let item = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["depot"] == depot.id.as_str() && i["part"] == part.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("no suggestion for {} at {}: {body}", part, depot.id));
    assert_eq!(item["quantity"].as_i64(), Some(2 * safety - on_hand));
    assert!(matches!(item["action"]["kind"].as_str(), Some("transfer" | "purchase")), "{item}");
}

#[tokio::test]
async fn an_engineers_reported_position_is_kept_and_shown() {
    let h = harness().await;
    let id = h.state.fleet.engineers()[0].id.to_string();
    let uri = format!("/api/v1/engineers/{id}/position");
    let eng = Some(Role::Engineer);
    let (status, body) = call_as(&h, eng, "POST", &uri, Some(json!({"lat": 48.14, "lon": 11.58}))).await;
    assert_eq!((status, body["latest"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    let old = json!({"lat": 1.0, "lon": 1.0, "at": "2020-01-01T00:00:00Z"});
    let (_, body) = call_as(&h, eng, "POST", &uri, Some(old)).await;
    assert_eq!((body["latest"].as_bool(), body["position"]["lat"].as_f64()), (Some(false), Some(48.14)));
    let (status, _) = call_as(&h, eng, "POST", &uri, Some(json!({"lat": 91.0, "lon": 0.0}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let future = json!({"lat": 1.0, "lon": 1.0, "at": "2099-01-01T00:00:00Z"});
    let (status, body) = call_as(&h, eng, "POST", &uri, Some(future)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a clock far ahead would shadow every real report: {body}");
    let (status, _) =
        call_as(&h, eng, "POST", "/api/v1/engineers/E-none/position", Some(json!({"lat": 1.0, "lon": 1.0}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = call(&h, "GET", "/api/v1/engineers?limit=1", None).await;
    assert_eq!(list["items"][0]["position"]["lon"].as_f64(), Some(11.58), "{list}");
}

#[tokio::test]
async fn readiness_names_every_failing_component_and_health_stays_live() {
    use std::sync::atomic::Ordering::Relaxed;
    let h = harness().await;
    let m = &h.state.metrics;
    m.mqtt_connected.store(1, Relaxed);
    m.mqtt_subscribed.store(1, Relaxed);
    let (status, body) = call(&h, "GET", "/ready", None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ready")));
    m.mqtt_connected.store(0, Relaxed);
    m.intake_paused.store(1, Relaxed);
    m.store_retrying.store(1, Relaxed);
    let (status, body) = call(&h, "GET", "/ready", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("not_ready")));
    let message = body["error"]["message"].as_str().unwrap();
    for component in ["broker", "backlog", "database: writes are being retried"] {
        assert!(message.contains(component), "{component} missing from {message}");
    }
    let (status, body) = call(&h, "GET", "/health", None).await;
    assert_eq!((status, body["database"].as_str()), (StatusCode::OK, Some("ok")), "liveness does not depend on them");
}

#[tokio::test]
async fn dead_findings_are_listed_newest_first() {
    let h = harness().await;
    let asset = &h.state.fleet.assets()[0];
    let finding = crate::detect::Finding {
        asset: asset.id.clone(),
        model: asset.model.clone(),
        rule: crate::model::RuleId::new("pump.bearing_wear"),
        fault: crate::model::FaultCode::new("BEARING_WEAR"),
        kind: crate::model::TicketKind::Repair,
        severity: crate::model::Severity::Major,
        opened: true,
        evidence: crate::detect::Evidence { at: 5, checks: Vec::new(), windows: Vec::new() },
    };
    for (at, reason) in [(1, "older"), (2, "newer")] {
        let d = crate::tickets::DeadFinding::new(&finding, crate::tickets::DeadFindingStage::Open, reason, at);
        h.state.dead_findings.insert_dead_finding(&d).await.unwrap();
    }
    let (status, body) = call(&h, "GET", "/api/v1/dead-findings?limit=10", None).await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0]["reason"].as_str(), items[0]["stage"].as_str()), (Some("newer"), Some("open")));
    assert_eq!(items[1]["finding"]["asset"], asset.id.as_str());
}
