//! The database: one connection pool and one set of migrations for SQLite
//! (the default, a file in WAL mode) and PostgreSQL (several engines share it).
//! Queries live with the stage they serve, in one store per concern
//! (`TicketStore`, `StockStore`, `PositionStore`, `DeadLetterStore`,
//! `DeadFindingStore`, each declared with `store!`); `app` holds the
//! connection and hands each stage only the stores it needs. How store
//! errors are classed and retried lives here.

mod class;
mod config;
mod internal_events;
mod record;
mod retry;

pub use class::{Classify, ErrorClass};
pub use config::{DatabaseConfig, DatabaseUrl};
pub use internal_events::{StoreCallFailed, Then};
pub use record::{column_list, from_row, parse, Column};
pub(crate) use record::{json_column, record, text_column};
pub use retry::{Failure, Retry};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

/// Migrations in order; each runs once, in a transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_remedy.sql")),
    (3, include_str!("../../migrations/0003_warranty.sql")),
    (4, include_str!("../../migrations/0004_quote.sql")),
    (5, include_str!("../../migrations/0005_progress_code.sql")),
    (6, include_str!("../../migrations/0006_report.sql")),
    (7, include_str!("../../migrations/0007_escalation.sql")),
    (8, include_str!("../../migrations/0008_availability.sql")),
    (9, include_str!("../../migrations/0009_parts_eta.sql")),
    (10, include_str!("../../migrations/0010_sla.sql")),
    (11, include_str!("../../migrations/0011_positions.sql")),
    (12, include_str!("../../migrations/0012_dead_findings.sql")),
    (13, include_str!("../../migrations/0013_event_engineer.sql")),
    (14, include_str!("../../migrations/0014_access.sql")),
    (15, include_str!("../../migrations/0015_users.sql")),
    (16, include_str!("../../migrations/0016_acknowledged.sql")),
    (17, include_str!("../../migrations/0017_notifications.sql")),
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: sqlx::Error },
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Which engine the URL selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The connection: the composition root (`app`) holds it and hands each
/// stage only the store it needs.
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) pool: AnyPool,
    pub engine: Engine,
}

/// Declares a store: the queries of one concern over the shared pool, and
/// `Db::$accessor` that makes it (declared in the stage's module, so the
/// database layer imports no stage).
macro_rules! store {
    ($(#[$doc:meta])* $name:ident, $accessor:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            pub(crate) pool: sqlx::AnyPool,
        }

        impl $crate::db::Db {
            $(#[$doc])*
            pub fn $accessor(&self) -> $name {
                $name { pool: self.pool.clone() }
            }
        }
    };
}
pub(crate) use store;

impl Db {
    /// Connects and brings the schema up to date. A `sqlite://` file is created if missing.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let engine = url.engine();
        let url = url.as_str();
        let url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
            }
            _ => url.to_owned(),
        };
        // A bounded wait for a connection: during an outage a call fails (and is
        // retried or answered 503) instead of hanging for sqlx's 30 s default.
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(&url)
            .await?;
        if engine == Engine::Sqlite {
            sqlx::query("PRAGMA journal_mode=WAL").execute(&pool).await?;
        }
        let db = Db { pool, engine };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        for &(version, sql) in MIGRATIONS {
            if self.applied(version).await? {
                continue;
            }
            let run = async {
                let mut tx = self.pool.begin().await?;
                for statement in statements(sql) {
                    sqlx::query(&statement).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(crate::model::now_ms())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            };
            if let Err(source) = run.await {
                // Another engine may have applied it concurrently.
                if !self.applied(version).await? {
                    return Err(DbError::Migration { version, source });
                }
            }
        }
        Ok(())
    }

    async fn applied(&self, version: i64) -> Result<bool, DbError> {
        let row = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

/// Splits a migration into statements, dropping `--` comments.
fn statements(sql: &str) -> Vec<String> {
    let cleaned: String = sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    cleaned.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// `sql` narrowed by `column = value` for each pair whose value is given,
/// as numbered parameters; the values to bind, in order.
pub(crate) fn where_equal<'v>(sql: &mut String, pairs: &[(&str, Option<&'v str>)]) -> Vec<&'v str> {
    let mut binds = Vec::new();
    for &(column, value) in pairs {
        if let Some(v) = value {
            binds.push(v);
            sql.push_str(&format!(" AND {column} = ${}", binds.len()));
        }
    }
    binds
}

/// Reads a column, turning decode failures into `DbError`.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, DbError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(name).map_err(DbError::from)
}

/// A fresh SQLite database in a temporary directory, kept while the guard lives (for tests).
#[cfg(test)]
pub(crate) async fn temp_sqlite() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = Db::connect(&DatabaseUrl::sqlite(dir.path().join("test.db").display()), 2).await.expect("SQLite opens");
    (db, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_split_and_comments_dropped() {
        let s = statements(
            "-- a comment; with semicolon\nCREATE TABLE a (x BIGINT);\n\nCREATE INDEX i ON a (x); -- tail\n",
        );
        assert_eq!(s, ["CREATE TABLE a (x BIGINT)", "CREATE INDEX i ON a (x)"]);
    }
}
