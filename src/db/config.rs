//! The database's settings.

use super::Engine;
use crate::model::Span;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path.db` (created if missing) or `postgres://...`.
    pub url: DatabaseUrl,
    pub max_connections: u32,
    /// A store call without an answer this long is cancelled and retried.
    pub call_timeout: Span,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: DatabaseUrl::sqlite("upkeep.db"), max_connections: 8, call_timeout: Span::from_secs(10) }
    }
}

/// A database URL and the engine it selects, checked when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DatabaseUrl {
    engine: Engine,
    text: String,
}

crate::model::serde_as_text!(DatabaseUrl);

impl DatabaseUrl {
    /// The SQLite file at `path`.
    pub fn sqlite(path: impl std::fmt::Display) -> DatabaseUrl {
        DatabaseUrl { engine: Engine::Sqlite, text: format!("sqlite://{path}") }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The SQLite file's path (without the query), for a SQLite URL.
    pub fn sqlite_file(&self) -> Option<&str> {
        let file = self.text.strip_prefix("sqlite://")?;
        file.split('?').next()
    }

    /// The URL without its password, for logs and errors.
    pub fn redacted(&self) -> String {
        let url = self.text.as_str();
        let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
        let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_owned() };
        match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        }
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let engine = match text.split_once("://").map(|(scheme, _)| scheme) {
            Some("sqlite") => Engine::Sqlite,
            Some("postgres" | "postgresql") => Engine::Postgres,
            _ => return Err(format!("'{text}' is neither sqlite://FILE nor postgres://HOST/DATABASE")),
        };
        Ok(DatabaseUrl { engine, text: text.to_owned() })
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        let redacted = |url: &str| url.parse::<DatabaseUrl>().unwrap().redacted();
        assert_eq!(redacted("postgres://u:secret@db:5432/x"), "postgres://u:***@db:5432/x");
        assert_eq!(redacted("postgres://u@db:5432/x"), "postgres://u@db:5432/x");
        assert_eq!(redacted("sqlite://upkeep.db"), "sqlite://upkeep.db");
    }

    #[test]
    fn the_url_selects_the_engine_and_names_the_sqlite_file() {
        let url: DatabaseUrl = "sqlite://data/upkeep.db?mode=rwc".parse().unwrap();
        assert_eq!((url.engine(), url.sqlite_file()), (Engine::Sqlite, Some("data/upkeep.db")));
        let pg: DatabaseUrl = "postgresql://u@db/x".parse().unwrap();
        assert_eq!((pg.engine(), pg.sqlite_file()), (Engine::Postgres, None));
        assert!("mysql://db/x".parse::<DatabaseUrl>().is_err());
        assert!("upkeep.db".parse::<DatabaseUrl>().is_err());
    }
}
