//! Shared helpers for the integration suites: real servers from environment
//! variables (required when `CI=true`), fresh databases per test.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use upkeep::db::Db;
use upkeep::rules::RuleSet;

/// The address in `var`, or `None` to skip locally. Under `CI=true` a missing
/// server is a failure, never a silent skip.
pub fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{var} must be set when CI=true")
        }
        _ => {
            eprintln!("skipping: {var} is not set");
            None
        }
    }
}

pub fn rules() -> Arc<RuleSet> {
    Arc::new(upkeep::rules::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).expect("shipped rules load"))
}

/// A fresh SQLite file in a temporary directory (kept alive by the guard).
pub async fn sqlite() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (Db::connect(&url, 8).await.unwrap(), dir)
}

/// A fresh PostgreSQL database created on the server at `admin_url`.
pub async fn postgres(admin_url: &str) -> Db {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("upkeep_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::AnyConnection::connect(admin_url).await.expect("PostgreSQL reachable");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    Db::connect(&format!("{base}/{name}"), 8).await.unwrap()
}
