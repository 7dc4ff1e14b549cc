use super::*;

#[test]
fn a_token_speaks_for_whom_its_role_needs_and_no_one_else() {
    let eng = || Some(EngineerId::new("ENG-001"));
    let cust = || Some("Acme".to_owned());
    assert_eq!(Principal::new("Li", Role::Engineer, eng(), None).unwrap().engineer(), eng().as_ref());
    assert_eq!(Principal::new("Acme desk", Role::Customer, None, cust()).unwrap().customer(), Some("Acme"));
    assert_eq!(Principal::new("Ann", Role::Dispatcher, None, None).unwrap().scope, Scope::All);
    assert!(Principal::new("Li", Role::Engineer, None, None).is_err(), "an engineer token names its engineer");
    assert!(Principal::new("Li", Role::Engineer, eng(), cust()).is_err());
    assert!(Principal::new("Acme", Role::Customer, None, Some(" ".into())).is_err());
    assert!(Principal::new("Ann", Role::Dispatcher, eng(), None).is_err(), "staff speak for nobody else");
    assert!(Principal::new(" ", Role::Admin, None, None).is_err(), "a name is required");
    assert!(Principal::new("Dispatch", Role::Admin, None, None).is_err(), "a person cannot pass for a stage");
}

#[test]
fn every_action_names_at_least_one_role_and_personal_data_stays_with_few() {
    for a in Action::ALL {
        assert!(!a.roles().is_empty(), "{a} has no role");
    }
    assert_eq!(Action::ReadEngineers.roles(), &[Role::Supervisor, Role::Dispatcher, Role::Engineer]);
    assert_eq!(Action::ReadDeadLetters.roles(), &[Role::Admin, Role::Operations]);
    for a in Action::ALL.into_iter().filter(|a| !a.as_str().starts_with("read_")) {
        assert!(!a.roles().contains(&Role::Operations), "operations only read, yet may {a}");
    }
}

#[tokio::test]
async fn a_token_is_stored_as_its_hash_and_stops_working_when_revoked() {
    let (db, _dir) = crate::db::temp_sqlite().await;
    let store = db.tokens();
    let p = Principal::new("Ann", Role::Dispatcher, None, None).unwrap();
    let issued = store.issue(&p, 1_000).await.unwrap();
    assert!(issued.token.starts_with("upk_") && issued.token.len() == 4 + 64, "{}", issued.token);
    assert_eq!(store.principal(&issued.token).await.unwrap(), Some(p.clone()));
    assert_eq!(store.principal("upk_nope").await.unwrap(), None);
    let stored: Vec<String> = sqlx::query_scalar("SELECT hash FROM api_tokens").fetch_all(&db.pool).await.unwrap();
    assert!(!stored[0].contains(&issued.token[4..]), "the secret itself is not stored");
    assert_eq!(store.live().await.unwrap(), 1);
    assert!(store.revoke(&issued.record.id, 2_000).await.unwrap());
    assert!(!store.revoke(&issued.record.id, 3_000).await.unwrap(), "revoked once");
    assert_eq!(store.principal(&issued.token).await.unwrap(), None);
    assert_eq!(store.live().await.unwrap(), 0);
    assert_eq!(store.list().await.unwrap()[0].revoked_at, Some(2_000));
}

#[tokio::test]
async fn positions_past_their_retention_are_purged_and_fresher_ones_kept() {
    let (db, _dir) = crate::db::temp_sqlite().await;
    let store = db.positions();
    let day = 86_400_000;
    let now = 100 * day;
    let here = crate::model::GeoPoint { lat: 48.1, lon: 11.6 };
    store.set_position(&EngineerId::new("ENG-OLD"), now - 31 * day, here).await.unwrap();
    store.set_position(&EngineerId::new("ENG-NEW"), now - 29 * day, here).await.unwrap();
    let config = PrivacyConfig::default();
    assert_eq!(privacy::purge(&store, &config, now).await.unwrap(), 1);
    let kept: Vec<String> =
        store.engineer_positions(0).await.unwrap().into_iter().map(|(e, ..)| e.to_string()).collect();
    assert_eq!(kept, ["ENG-NEW"]);
    assert_eq!(privacy::purge(&store, &config, now).await.unwrap(), 0, "a second purge finds nothing");
}

#[tokio::test]
async fn a_user_signs_in_with_their_password_and_the_session_ends_when_it_should() {
    let (db, _dir) = crate::db::temp_sqlite().await;
    let users = db.users();
    let ann = Principal::new("ann", Role::Dispatcher, None, None).unwrap();
    assert!(users.add(&ann, "short", 0).await.is_err(), "passwords have 12 characters at least");
    users.add(&ann, "correct horse battery", 0).await.unwrap();
    assert!(users.add(&ann, "another long password", 0).await.is_err(), "names are unique");
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users").fetch_one(&db.pool).await.unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("correct horse"), "{stored}");

    let hour = 3_600_000;
    assert!(users.sign_in("ann", "wrong password!!", 0, hour).await.unwrap().is_none());
    assert!(
        users.sign_in("bob", "correct horse battery", 0, hour).await.unwrap().is_none(),
        "unknown names fail alike"
    );
    let s = users.sign_in("ann", "correct horse battery", 0, hour).await.unwrap().expect("signed in");
    assert_eq!(s.principal, ann);
    let found = users.session(&s.secret, 10).await.unwrap().expect("a live session");
    assert_eq!((found.principal, found.csrf), (ann.clone(), s.csrf.clone()));
    assert!(users.session(&s.secret, hour + 1).await.unwrap().is_none(), "sessions expire");
    assert!(users.session("not-a-session", 10).await.unwrap().is_none());
    users.sign_out(&s.secret).await.unwrap();
    assert!(users.session(&s.secret, 10).await.unwrap().is_none(), "signed out");

    let s = users.sign_in("ann", "correct horse battery", 0, hour).await.unwrap().unwrap();
    assert!(users.set_password("ann", "a brand new password").await.unwrap());
    assert!(users.session(&s.secret, 10).await.unwrap().is_none(), "a new password ends the sessions");
    let s = users.sign_in("ann", "a brand new password", 0, hour).await.unwrap().unwrap();
    assert!(users.disable("ann", 5).await.unwrap());
    assert!(users.session(&s.secret, 10).await.unwrap().is_none(), "disabling ends the sessions");
    assert!(users.sign_in("ann", "a brand new password", 10, hour).await.unwrap().is_none());
    assert_eq!(users.list().await.unwrap()[0].disabled_at, Some(5));
}
