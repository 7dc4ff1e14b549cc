//! The routes the people's pages stand on: the pages and their files, the
//! reassignment picker, storms acknowledged at once, the engineers' day,
//! the rule with its translations, the customer's page writing by code,
//! and the change stream.

use super::*;

async fn get_raw(h: &Harness, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = app(h.state.clone()).oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn every_page_and_every_file_it_loads_is_served_from_the_binary() {
    let h = harness().await;
    for page in ["/", "/field", "/track"] {
        let (status, headers, html) = get_raw(&h, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        // Every script and stylesheet the page names, and every module they import.
        let mut wanted: Vec<String> =
            html.match_indices("/ui/").map(|(at, _)| html[at..].split('"').next().unwrap().to_owned()).collect();
        while let Some(file) = wanted.pop() {
            let (status, headers, body) = get_raw(&h, &file).await;
            assert_eq!(status, StatusCode::OK, "{page} loads {file}");
            assert_eq!(headers["x-content-type-options"], "nosniff");
            for (at, _) in body.match_indices("from './") {
                wanted.push(format!("/ui/{}", body[at + 8..].split('\'').next().unwrap()));
            }
        }
    }
    let (status, _, _) = get_raw(&h, "/ui/console.html").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "pages are served at their own paths only");
    let (_, _, settings) = get_raw(&h, "/ui/settings.json").await;
    assert_eq!(serde_json::from_str::<Value>(&settings).unwrap()["languages"], json!(["en", "zh-CN"]));
}

#[tokio::test]
async fn a_configured_tile_server_is_the_only_other_origin_a_page_may_load_from() {
    let mut h = harness().await;
    let (_, headers, _) = get_raw(&h, "/").await;
    assert!(headers["content-security-policy"].to_str().unwrap().contains("img-src 'self' data: ;"));
    h.state.map_tiles = "https://tiles.plant.example:8443/osm/{z}/{x}/{y}.png".into();
    let (_, headers, _) = get_raw(&h, "/").await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self' data: https://tiles.plant.example:8443;"), "{csp}");
    let (_, _, settings) = get_raw(&h, "/ui/settings.json").await;
    assert_eq!(serde_json::from_str::<Value>(&settings).unwrap()["map_tiles"], h.state.map_tiles.as_str());
    h.state.map_tiles = "https://{s}.tile.example.org/{z}/{x}/{y}.png".into();
    let (_, headers, _) = get_raw(&h, "/").await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self' data: ;") && csp.contains("script-src 'self'"), "{csp}");
}

#[tokio::test]
async fn the_picker_judges_engineers_as_dispatch_does() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let (status, body) = call(&h, "GET", &format!("/api/v1/tickets/{id}/candidates?limit=50"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let fit: Vec<bool> = items.iter().map(|c| c["unfit"].is_null()).collect();
    assert!(fit.windows(2).all(|w| w[0] >= w[1]), "those who could take it come first: {fit:?}");
    for c in items {
        let skills = c["skills"].as_array().unwrap();
        assert_eq!(skills.len(), 2, "the rule's two skills: {c}");
        let lacks = skills.iter().any(|s| s[1].as_u64() < s[2].as_u64());
        assert_eq!(lacks, c["unfit"] == "missing_skill", "{c}");
    }
    // However few are near, the walk goes on until `limit` could take it.
    let (_, one) = call(&h, "GET", &format!("/api/v1/tickets/{id}/candidates?limit=1"), None).await;
    let one = one["items"].as_array().unwrap();
    assert_eq!(one.iter().filter(|c| c["unfit"].is_null()).count(), 1, "{one:?}");
    assert!(one.len() <= 2, "at most one who cannot, for context: {one:?}");
    // An engineer who declined is marked so and offered nothing.
    let first_fit = items.iter().find(|c| c["unfit"].is_null()).unwrap()["engineer_id"].as_str().unwrap().to_owned();
    let (s, _) =
        call(&h, "POST", &format!("/api/v1/tickets/{id}/reassign"), Some(json!({"engineer_id": first_fit}))).await;
    assert_eq!(s, StatusCode::OK);
    let decline = json!({"engineer_id": first_fit, "reason": "on leave"});
    let (s, body) = call(&h, "POST", &format!("/api/v1/tickets/{id}/decline"), Some(decline)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, body) = call(&h, "GET", &format!("/api/v1/tickets/{id}/candidates?limit=50"), None).await;
    let me = body["items"].as_array().unwrap().iter().find(|c| c["engineer_id"] == first_fit.as_str()).unwrap().clone();
    assert_eq!(me["unfit"], "declined_or_absent");
    let (s, _) = call(&h, "GET", &format!("/api/v1/tickets/{id}/candidates?limit=0"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call_as(&h, Some(Role::Engineer), "GET", &format!("/api/v1/tickets/{id}/candidates"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// Two tickets: one open, the other opened and cancelled.
async fn open_and_cancelled(h: &Harness) -> (String, String) {
    let (a, b) = (open_ticket(h).await, begin_ticket_on(h, 1).await.commit().await.unwrap().to_string());
    let (s, _) = call(h, "POST", &format!("/api/v1/tickets/{b}/transition"), Some(json!({"to": "cancelled"}))).await;
    assert_eq!(s, StatusCode::OK);
    (a, b)
}

#[tokio::test]
async fn a_storm_is_acknowledged_at_once_and_what_moved_on_is_skipped() {
    let h = harness().await;
    let (a, b) = open_and_cancelled(&h).await;
    let (s, body) = call_as(
        &h,
        Some(Role::Dispatcher),
        "POST",
        "/api/v1/tickets/acknowledge",
        Some(json!({"ids": [a, b, "TK-none"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["acknowledged"], json!([a]));
    assert_eq!(body["skipped"], json!([b, "TK-none"]));
    let (_, t) = call(&h, "GET", &format!("/api/v1/tickets/{a}"), None).await;
    let ack = t["events"].as_array().unwrap().iter().find(|e| e["kind"] == "acknowledged").expect("an event").clone();
    assert_eq!(ack["actor"], "test dispatcher");
    assert!(t["acknowledged_at"].is_i64(), "kept on the ticket: {t}");
    let again = json!({"ids": [a]});
    let (_, body) = call_as(&h, Some(Role::Dispatcher), "POST", "/api/v1/tickets/acknowledge", Some(again)).await;
    assert_eq!(body["skipped"], json!([a]), "acknowledged once");
    let (s, _) = call(&h, "POST", "/api/v1/tickets/acknowledge", Some(json!({"ids": []}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn each_engineer_comes_with_shifts_and_an_agenda_in_working_order() {
    let h = harness().await;
    let engineer = h.state.fleet.engineers()[0].id.to_string();
    let mut ids = Vec::new();
    for i in 0..2 {
        let id = begin_ticket_on(&h, i).await.commit().await.unwrap().to_string();
        let (s, _) =
            call(&h, "POST", &format!("/api/v1/tickets/{id}/reassign"), Some(json!({"engineer_id": engineer}))).await;
        assert_eq!(s, StatusCode::OK);
        ids.push(id);
    }
    // The second is already accepted: it comes first on the agenda.
    let (s, _) =
        call(&h, "POST", &format!("/api/v1/tickets/{}/transition", ids[1]), Some(json!({"to": "accepted"}))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, body) = call_as(&h, Some(Role::Engineer), "GET", "/api/v1/engineers", None).await;
    let me = &body["items"][0];
    assert_eq!(me["engineer"]["id"], engineer.as_str(), "an engineer sees only themselves");
    let agenda = me["agenda"].as_array().unwrap();
    assert_eq!(agenda.iter().map(|v| v["ticket"].as_str().unwrap()).collect::<Vec<_>>(), vec![&ids[1], &ids[0]]);
    for v in agenda {
        assert!(v["depart"].as_i64() <= v["arrive"].as_i64() && v["arrive"].as_i64() < v["leave"].as_i64(), "{v}");
    }
    assert!(agenda[1]["arrive"].as_i64() >= agenda[0]["leave"].as_i64(), "one job after the other");
    let shifts = me["shifts"].as_array().unwrap();
    assert!(!shifts.is_empty() && shifts.iter().all(|s| s[0].as_i64() < s[1].as_i64()));
    assert_eq!(me["unavailable"], false);
    assert!(me["position_at"].is_null(), "no position reported yet: from home");
}

#[tokio::test]
async fn staff_see_the_rule_with_its_translations_and_customers_do_not() {
    let h = harness().await;
    let id = open_ticket(&h).await;
    let (_, t) = call_as(&h, Some(Role::Dispatcher), "GET", &format!("/api/v1/tickets/{id}"), None).await;
    assert_eq!(t["rule"]["id"], "pump.bearing_wear");
    assert!(t["rule"]["translations"]["zh-CN"].as_str().unwrap().contains("轴承"));
    assert_eq!(t["rule"]["when"]["any"][0]["check"]["bound"]["above"], 4.5);
    let (_, t) = call_as(&h, Some(Role::Customer), "GET", &format!("/api/v1/tickets/{id}"), None).await;
    assert!(t.get("rule").is_none(), "{t}");
}

#[tokio::test]
async fn the_board_lists_only_open_work_when_asked() {
    let h = harness().await;
    let (a, _) = open_and_cancelled(&h).await;
    let (_, page) = call(&h, "GET", "/api/v1/tickets?active=true", None).await;
    let ids: Vec<&str> = page["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![a.as_str()]);
}

#[tokio::test]
async fn the_customer_page_accepts_and_rates_by_its_code_alone() {
    let h = harness().await;
    let mut opening = begin_ticket(&h).await;
    let quote = crate::tickets::quote::Quote { currency: "EUR".into(), lines: vec![], total: 120.0 };
    opening.quote(&quote).await.unwrap();
    let id = opening.commit().await.unwrap().to_string();
    let (_, t) = call(&h, "GET", &format!("/api/v1/tickets/{id}"), None).await;
    let code = t["progress_code"].as_str().unwrap().to_owned();
    let (s, body) = call_as(&h, None, "POST", &format!("/api/v1/progress/{code}/quote/accept"), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body["quote_accepted_at"].is_i64());
    let (s, _) = call_as(&h, None, "POST", &format!("/api/v1/progress/{code}/quote/accept"), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "accepted once");
    let rating = json!({"rating": 5, "comment": "quick"});
    let (s, body) =
        call_as(&h, None, "POST", &format!("/api/v1/progress/{code}/follow-up"), Some(rating.clone())).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_closed")), "{body}");
    let (s, _) = call_as(&h, None, "POST", "/api/v1/progress/NOPE/follow-up", Some(rating)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, t) = call(&h, "GET", &format!("/api/v1/tickets/{id}"), None).await;
    let accepted = t["events"].as_array().unwrap().iter().find(|e| e["kind"] == "quote_accepted").unwrap().clone();
    assert_eq!(accepted["actor"], "customer (progress code)");
}

#[tokio::test]
async fn the_stream_says_changed_when_a_ticket_moves() {
    let h = harness().await;
    let req = Request::builder()
        .uri("/api/v1/stream")
        .header("authorization", format!("Bearer {}", h.tokens[&Role::Dispatcher]))
        .body(Body::empty())
        .unwrap();
    let resp = app(h.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    let wait = std::time::Duration::from_secs(5);
    open_ticket(&h).await;
    let next = tokio::time::timeout(wait, body.frame())
        .await
        .expect("a change within seconds")
        .unwrap()
        .unwrap()
        .into_data()
        .unwrap();
    assert!(String::from_utf8_lossy(&next).starts_with("event: changed"), "{next:?}");
    h.state.changes.close();
    assert!(
        tokio::time::timeout(wait, body.frame()).await.expect("ends at once").is_none(),
        "the stream ends when the server stops"
    );
}
