//! Faults customers report, and the notifications' routes.

use super::*;

/// The index of the first pump (its model has a general-tier CLOGGED_FILTER fault).
fn pump(h: &Harness) -> usize {
    let has = |a: &crate::fleet::Asset| {
        h.state.rules.for_model(&a.model).is_some_and(|m| m.rules.iter().any(|r| r.fault.as_str() == "CLOGGED_FILTER"))
    };
    h.state.fleet.assets().iter().position(has).expect("the generated fleet has a pump")
}

fn report(asset: &str, fault: Option<&str>, severity: Option<&str>) -> Value {
    json!({ "asset": asset, "fault": fault, "symptom": "pressure drops, loud hum", "contact": "Ms Li, +86 21 5555 0101",
            "severity": severity })
}

async fn outbox(h: &Harness) -> Vec<String> {
    let rows = sqlx::query("SELECT notice FROM notice_outbox ORDER BY ticket_id, seq")
        .fetch_all(&h.state.notifications.pool)
        .await
        .unwrap();
    rows.iter().map(|r| crate::db::col::<String>(r, "notice").unwrap()).collect()
}

#[tokio::test]
async fn a_call_with_no_open_ticket_opens_one_through_dispatch_at_no_less_than_the_faults_tier() {
    let h = harness().await;
    let asset = h.state.fleet.assets()[pump(&h)].id.to_string();
    let (s, body) =
        call_as(&h, Some(Role::Dispatcher), "POST", "/api/v1/tickets", Some(report(&asset, None, None))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("fault_needed")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("CLOGGED_FILTER"), "names the model's faults: {body}");
    let (s, body) =
        call_as(&h, Some(Role::Dispatcher), "POST", "/api/v1/tickets", Some(report(&asset, Some("NOPE"), None))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_fault")));

    let (s, body) = call_as(
        &h,
        Some(Role::Dispatcher),
        "POST",
        "/api/v1/tickets",
        Some(report(&asset, Some("CLOGGED_FILTER"), Some("major"))),
    )
    .await;
    assert_eq!((s, body["outcome"].as_str()), (StatusCode::CREATED, Some("opened")), "{body}");
    let t = &body["ticket"];
    assert_eq!(
        (t["severity"].as_str(), t["fault_code"].as_str()),
        (Some("major"), Some("CLOGGED_FILTER")),
        "suggested above the tier: taken"
    );
    assert!(body["engine_lead_ms"].is_null());
    let kinds: Vec<&str> = t["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"opened"));
    assert!(kinds.contains(&"assessed") && kinds.contains(&"customer_reported"), "{kinds:?}");
    assert!(kinds.iter().any(|k| *k == "assigned" || *k == "unassigned"), "dispatched like any ticket: {kinds:?}");
    let reported = t["events"].as_array().unwrap().iter().find(|e| e["kind"] == "customer_reported").unwrap();
    assert!(reported["detail"].as_str().unwrap().contains("this report opened the ticket"), "{reported}");
    assert_eq!(reported["actor"], "test dispatcher");
    assert!(outbox(&h).await.contains(&"customer_reported".to_owned()), "the supervisor hears of it");

    // A second call about the unit joins that ticket: no twin.
    let (s, body) =
        call_as(&h, Some(Role::Dispatcher), "POST", "/api/v1/tickets", Some(report(&asset, None, Some("general"))))
            .await;
    assert_eq!((s, body["outcome"].as_str()), (StatusCode::OK, Some("attached")), "{body}");
    assert_eq!(body["ticket"]["id"], t["id"]);
    assert!(body["engine_lead_ms"].is_null(), "the engine did not see it first: a call opened it");
}

#[tokio::test]
async fn a_call_about_a_fault_the_engine_already_ticketed_is_attached_with_the_engines_lead() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let asset = h.state.fleet.assets()[0].id.to_string();
    let before = call(&h, "GET", "/api/v1/tickets?limit=100", None).await.1["items"].as_array().unwrap().len();
    let (s, body) =
        call_as(&h, Some(Role::Customer), "POST", "/api/v1/tickets", Some(report(&asset, Some("BEARING_WEAR"), None)))
            .await;
    assert_eq!((s, body["outcome"].as_str()), (StatusCode::OK, Some("attached")), "{body}");
    assert_eq!(body["ticket"]["ticket"].as_str(), Some(id.as_str()), "in the customer's view");
    let lead = body["engine_lead_ms"].as_i64().unwrap();
    assert!(lead > 0, "detected at 1 s after the epoch, reported now: {lead}");
    let after = call(&h, "GET", "/api/v1/tickets?limit=100", None).await.1["items"].as_array().unwrap().len();
    assert_eq!(before, after, "no second ticket");
    let (_, detail) = call(&h, "GET", &format!("/api/v1/tickets/{id}"), None).await;
    let reported = detail["events"].as_array().unwrap().iter().find(|e| e["kind"] == "customer_reported").unwrap();
    assert!(reported["detail"].as_str().unwrap().contains("the engine had detected it"), "{reported}");
}

#[tokio::test]
async fn customers_report_on_their_own_units_only_and_bad_bodies_are_refused() {
    let h = harness().await;
    let own = h.state.fleet.assets()[0].customer.clone();
    let other = h.state.fleet.assets().iter().find(|a| a.customer != own).unwrap().id.to_string();
    let (s, body) =
        call_as(&h, Some(Role::Customer), "POST", "/api/v1/tickets", Some(report(&other, None, None))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (s, _) = call_as(&h, Some(Role::Engineer), "POST", "/api/v1/tickets", Some(report(&other, None, None))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let asset = h.state.fleet.assets()[0].id.to_string();
    let mut empty = report(&asset, None, None);
    empty["symptom"] = json!("  ");
    let (s, _) = call_as(&h, Some(Role::Dispatcher), "POST", "/api/v1/tickets", Some(empty)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let mut future = report(&asset, None, None);
    future["reported_at"] = json!(crate::model::now_ms() + 3_600_000);
    let (s, _) = call_as(&h, Some(Role::Dispatcher), "POST", "/api/v1/tickets", Some(future)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn notifications_are_listed_with_their_backlog_and_only_dead_ones_retried() {
    let h = harness().await;
    let asset = h.state.fleet.assets()[pump(&h)].id.to_string();
    let reported = report(&asset, Some("CLOGGED_FILTER"), None);
    assert_eq!(call(&h, "POST", "/api/v1/tickets", Some(reported)).await.0, StatusCode::CREATED);
    let (s, body) = call_as(&h, Some(Role::Operations), "GET", "/api/v1/notifications?status=dead", None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
    assert!(body["backlog"]["outbox"].as_i64().unwrap() >= 1, "the report left a notice: {body}");
    let (s, _) = call_as(&h, Some(Role::Operations), "GET", "/api/v1/notifications?status=lost", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, body) = call_as(&h, Some(Role::Dispatcher), "POST", "/api/v1/notifications/nope/retry", None).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (s, _) = call_as(&h, Some(Role::Engineer), "GET", "/api/v1/notifications", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// A ticket on the first asset walked to `closed` through the API.
async fn closed_ticket(h: &Harness) -> String {
    let id = open_ticket(h).await;
    let path = format!("/api/v1/tickets/{id}");
    let engineer = h.state.fleet.engineers()[0].id.to_string();
    call(h, "POST", &format!("{path}/reassign"), Some(json!({"engineer_id": engineer}))).await;
    for to in ["accepted", "en_route", "on_site"] {
        call(h, "POST", &format!("{path}/transition"), Some(json!({"to": to}))).await;
    }
    let report = json!({"cause": "worn", "fix": "replaced", "parts_used": [], "first_time_fix": true,
        "repaired_at": crate::model::now_ms() - 60_000});
    call(h, "POST", &format!("{path}/report"), Some(report)).await;
    let (s, t) = call(h, "POST", &format!("{path}/transition"), Some(json!({"to": "closed"}))).await;
    assert_eq!((s, t["state"].as_str()), (StatusCode::OK, Some("closed")), "{t}");
    id
}

#[tokio::test]
async fn a_closed_ticket_waits_for_its_follow_up_call_and_a_low_rating_files_a_complaint() {
    let h = harness().await;
    let id = closed_ticket(&h).await;
    let (s, due) = call_as(&h, Some(Role::Dispatcher), "GET", "/api/v1/follow-ups", None).await;
    assert_eq!(s, StatusCode::OK, "{due}");
    let item = &due["items"][0];
    assert_eq!(item["ticket"].as_str(), Some(id.as_str()));
    let (closed, due_at) = (item["closed_at"].as_i64().unwrap(), item["due_at"].as_i64().unwrap());
    assert_eq!(due_at - closed, 3 * 86_400_000, "due within 3 days of closing");
    assert_eq!(item["overdue"], false);
    assert!(outbox(&h).await.contains(&"follow_up_due".to_owned()), "the supervisor is told the call is due");

    let (s, _) =
        call(&h, "POST", &format!("/api/v1/tickets/{id}/follow-up"), Some(json!({"rating": 2, "comment": "slow"})))
            .await;
    assert_eq!(s, StatusCode::OK);
    let (_, due) = call_as(&h, Some(Role::Dispatcher), "GET", "/api/v1/follow-ups", None).await;
    assert!(due["items"].as_array().unwrap().is_empty(), "followed up: no longer due");
    let (s, list) = call_as(&h, Some(Role::Dispatcher), "GET", "/api/v1/complaints", None).await;
    assert_eq!(s, StatusCode::OK);
    let c = &list["items"][0];
    assert_eq!(
        (c["kind"].as_str(), c["ticket_id"].as_str(), c["state"].as_str()),
        (Some("dissatisfied"), Some(id.as_str()), Some("open"))
    );
    assert!(c["response_due"].as_i64().unwrap() > c["received_at"].as_i64().unwrap());
    assert!(outbox(&h).await.contains(&"complaint_received".to_owned()));
}

#[tokio::test]
async fn a_complaint_is_answered_resolved_and_accepted_by_its_customer_only() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let body = json!({"ticket": id, "kind": "slow_repair", "description": "nobody came for two days"});
    let (s, c) = call_as(&h, Some(Role::Customer), "POST", "/api/v1/complaints", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let cid = c["id"].as_str().unwrap().to_owned();
    // Major: answered within the major tier's response time (4 h).
    assert_eq!(c["response_due"].as_i64().unwrap() - c["received_at"].as_i64().unwrap(), 4 * 3_600_000);
    assert_eq!(
        (c["model"].as_str(), c["severity"].as_str()),
        (Some(h.state.fleet.assets()[0].model.as_str()), Some("major"))
    );
    let path = format!("/api/v1/complaints/{cid}");

    // The customer may neither answer for the office nor accept before a resolution.
    let (s, _) =
        call_as(&h, Some(Role::Customer), "POST", &format!("{path}/respond"), Some(json!({"text": "x"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) =
        call_as(&h, Some(Role::Customer), "POST", &format!("{path}/answer"), Some(json!({"accepted": true}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("complaint_state")));
    let (s, c) =
        call_as(&h, Some(Role::Dispatcher), "POST", &format!("{path}/respond"), Some(json!({"text": "we are on it"})))
            .await;
    assert_eq!((s, c["state"].as_str()), (StatusCode::OK, Some("responded")), "{c}");
    let (s, c) = call_as(
        &h,
        Some(Role::Dispatcher),
        "POST",
        &format!("{path}/resolve"),
        Some(json!({"text": "visit moved up, fee waived"})),
    )
    .await;
    assert_eq!((s, c["state"].as_str()), (StatusCode::OK, Some("resolved")));
    let (s, c) = call_as(
        &h,
        Some(Role::Customer),
        "POST",
        &format!("{path}/answer"),
        Some(json!({"accepted": false, "text": "not enough"})),
    )
    .await;
    assert_eq!((s, c["state"].as_str()), (StatusCode::OK, Some("rejected")));
    let (_, c) = call_as(
        &h,
        Some(Role::Dispatcher),
        "POST",
        &format!("{path}/resolve"),
        Some(json!({"text": "unit exchanged"})),
    )
    .await;
    let (s, c2) =
        call_as(&h, Some(Role::Customer), "POST", &format!("{path}/answer"), Some(json!({"accepted": true}))).await;
    assert_eq!((s, c["state"].as_str(), c2["state"].as_str()), (StatusCode::OK, Some("resolved"), Some("accepted")));

    // Another customer's unit is unknown to this customer; a complaint needs a subject.
    let own = h.state.fleet.assets()[0].customer.clone();
    let other = h.state.fleet.assets().iter().find(|a| a.customer != own).unwrap().id.to_string();
    let (s, _) = call_as(
        &h,
        Some(Role::Customer),
        "POST",
        "/api/v1/complaints",
        Some(json!({"asset": other, "kind": "quality", "description": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call_as(
        &h,
        Some(Role::Dispatcher),
        "POST",
        "/api/v1/complaints",
        Some(json!({"kind": "other", "description": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, detail) = call(&h, "GET", &format!("/api/v1/tickets/{id}"), None).await;
    assert!(detail["events"].as_array().unwrap().iter().any(|e| e["kind"] == "complaint_received"));
}

#[tokio::test]
async fn the_engineer_books_the_visit_on_a_ticket_they_hold_and_the_customer_is_told() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let path = format!("/api/v1/tickets/{id}/appointment");
    let now = crate::model::now_ms();
    let window = json!({"from": now + 3_600_000, "to": now + 3 * 3_600_000, "note": "gate code 1234"});
    let (s, body) = call(&h, "POST", &path, Some(window.clone())).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_bookable")),
        "nobody holds it yet"
    );
    let engineer = h.state.fleet.engineers()[0].id.to_string();
    call(&h, "POST", &format!("/api/v1/tickets/{id}/reassign"), Some(json!({"engineer_id": engineer}))).await;
    let past = json!({"from": now - 3 * 3_600_000, "to": now - 3_600_000});
    let (s, body) = call_as(&h, Some(Role::Engineer), "POST", &path, Some(past)).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_window")));
    let (s, t) = call_as(&h, Some(Role::Engineer), "POST", &path, Some(window)).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["appointment_from"].as_i64(), Some(now + 3_600_000));
    let booked = t["events"].as_array().unwrap().iter().find(|e| e["kind"] == "appointment_booked").unwrap();
    assert!(booked["detail"].as_str().unwrap().ends_with("UTC: gate code 1234"), "{booked}");
    assert!(outbox(&h).await.contains(&"appointment_booked".to_owned()), "the customer hears of it");
    let (s, _) = call_as(&h, Some(Role::Customer), "POST", &path, Some(json!({"from": now + 1, "to": now + 2}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "customers do not book for the engineer");
}

#[tokio::test]
async fn the_monthly_report_groups_the_months_tickets_with_kpis_against_targets_as_json_and_csv() {
    let h = harness().await;
    let asset = h.state.fleet.assets()[pump(&h)].clone();
    let reported = report(asset.id.as_str(), Some("CLOGGED_FILTER"), None);
    assert_eq!(call(&h, "POST", "/api/v1/tickets", Some(reported)).await.0, StatusCode::CREATED);
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let (s, body) =
        call_as(&h, Some(Role::Operations), "GET", &format!("/api/v1/reports/monthly?month={month}&by=model"), None)
            .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let row =
        body["items"].as_array().unwrap().iter().find(|r| r["key"] == asset.model.as_str()).expect("the pump's row");
    assert_eq!((row["tickets"].as_u64(), row["top_faults"][0][0].as_str()), (Some(1), Some("CLOGGED_FILTER")));
    let response = row["kpis"].as_array().unwrap().iter().find(|k| k["kpi"] == "response_1h").unwrap();
    assert_eq!(response["target"].as_f64(), Some(0.98));

    let uri = format!("/api/v1/reports/monthly?month={month}&by=customer&format=csv");
    let req = Request::builder()
        .uri(&uri)
        .header("authorization", format!("Bearer {}", h.tokens[&Role::Dispatcher]))
        .body(Body::empty())
        .unwrap();
    let resp = app(h.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let text = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("customer,tickets,repairs,top_faults,repair_rate,complaints,response_1h_met"));
    assert!(lines.next().unwrap().starts_with(&format!("{},1,1,CLOGGED_FILTER 1,", asset.customer)), "{text}");

    let (s, _) = call_as(&h, Some(Role::Operations), "GET", "/api/v1/reports/monthly?month=2026-13", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call_as(&h, Some(Role::Customer), "GET", "/api/v1/reports/monthly", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn photos_and_comments_go_on_the_ticket_checked_and_for_staff_only() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let (s, t) = call(
        &h,
        "POST",
        &format!("/api/v1/tickets/{id}/comments"),
        Some(json!({"text": "customer on holiday until Monday"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert!(t["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "commented" && e["detail"] == "customer on holiday until Monday"));

    let upload = |media: &'static str, bytes: Vec<u8>| {
        Request::builder()
            .method("POST")
            .uri(format!("/api/v1/tickets/{id}/attachments?caption=worn%20seal"))
            .header("authorization", format!("Bearer {}", h.tokens[&Role::Supervisor]))
            .header("content-type", media)
            .body(Body::from(bytes))
            .unwrap()
    };
    let photo = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7u8; 2000]].concat();
    let resp = app(h.state.clone()).oneshot(upload("image/jpeg", photo.clone())).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let made: Value = serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let aid = made["id"].as_str().unwrap().to_owned();
    let resp = app(h.state.clone()).oneshot(upload("image/png", photo.clone())).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "a JPEG declared as PNG");
    let resp = app(h.state.clone()).oneshot(upload("image/jpeg", vec![0xFF; 5 * 1024 * 1024 + 1])).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let (s, list) = call(&h, "GET", &format!("/api/v1/tickets/{id}/attachments"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (list[0]["id"].as_str(), list[0]["media"].as_str(), list[0]["caption"].as_str()),
        (Some(aid.as_str()), Some("image/jpeg"), Some("worn seal"))
    );
    let get = Request::builder()
        .uri(format!("/api/v1/tickets/{id}/attachments/{aid}"))
        .header("authorization", format!("Bearer {}", h.tokens[&Role::Dispatcher]))
        .body(Body::empty())
        .unwrap();
    let resp = app(h.state.clone()).oneshot(get).await.unwrap();
    assert_eq!(
        (resp.headers()["content-type"].to_str().unwrap(), resp.headers()["x-content-type-options"].to_str().unwrap()),
        ("image/jpeg", "nosniff")
    );
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes().to_vec(), photo, "the same bytes back");
    let (s, _) = call_as(&h, Some(Role::Customer), "GET", &format!("/api/v1/tickets/{id}/attachments"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_parts_arrival_is_recorded_once_and_an_unknown_part_is_not_found() {
    let h = harness().await;
    let asset = h.state.fleet.assets()[pump(&h)].id.to_string();
    let (_, body) = call(&h, "POST", "/api/v1/tickets", Some(report(&asset, Some("CLOGGED_FILTER"), None))).await;
    let id = body["ticket"]["id"].as_str().unwrap().to_owned();
    let part = body["ticket"]["parts"][0]["part"].as_str().expect("the clogged filter needs a part").to_owned();
    let path = format!("/api/v1/tickets/{id}/parts/{part}/arrived");
    let (s, t) = call(&h, "POST", &path, Some(json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert!(t["parts"][0]["arrived_at"].as_i64().is_some());
    assert!(t["events"].as_array().unwrap().iter().any(|e| e["kind"] == "part_arrived"));
    let (s, body) = call(&h, "POST", &path, Some(json!({}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("arrived_already")));
    let (s, _) = call(&h, "POST", &format!("/api/v1/tickets/{id}/parts/NOPE/arrived"), Some(json!({}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
