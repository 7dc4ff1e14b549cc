//! People who sign in to the console: a name, a role, whom they speak for
//! and an Argon2id password hash; and their sessions, a cookie's secret
//! stored as its SHA-256 beside the CSRF token its writes must carry.

use super::secret::{digest, random_hex};
use super::{AccessError, Principal, Role};
use crate::model::{EngineerId, EpochMs};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;

crate::db::store!(
    /// Console users and their sessions.
    UserStore,
    users
);

crate::db::record! {
    /// A user as listed: never the password hash.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct UserRecord {
        pub name: String,
        pub role: Role,
        pub engineer_id: Option<EngineerId>,
        pub customer: Option<String>,
        pub created_at: EpochMs,
        pub disabled_at: Option<EpochMs>,
    }
}

/// A signed-in session: the cookie's secret (shown to the browser only) and
/// the token its writes carry in `X-CSRF-Token`.
#[derive(Clone)]
pub struct Session {
    pub secret: String,
    pub csrf: String,
    pub principal: Principal,
}

/// Never the secrets: a `Debug` may end up in a log line.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("principal", &self.principal).finish_non_exhaustive()
    }
}

/// Shorter passwords are refused.
const MIN_PASSWORD: usize = 12;

impl UserStore {
    /// A new user; the name must be free.
    pub async fn add(&self, p: &Principal, password: &str, now: EpochMs) -> Result<(), AccessError> {
        let hash = hashed(password).await?;
        let taken = sqlx::query("SELECT name FROM users WHERE name = $1").bind(&p.name).fetch_optional(&self.pool);
        if taken.await?.is_some() {
            return Err(AccessError::Invalid(format!("a user named '{}' exists", p.name)));
        }
        sqlx::query(
            "INSERT INTO users (name, role, engineer_id, customer, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.name)
        .bind(p.role.as_str())
        .bind(p.engineer().map(|e| e.to_string()))
        .bind(p.customer())
        .bind(hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A new password; the user's sessions end.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<bool, AccessError> {
        let hash = hashed(password).await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(hash)
            .bind(name)
            .execute(&self.pool)
            .await?;
        self.end_sessions(name).await?;
        Ok(done.rows_affected() == 1)
    }

    /// The user can no longer sign in; their sessions end.
    pub async fn disable(&self, name: &str, now: EpochMs) -> Result<bool, AccessError> {
        let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE name = $2 AND disabled_at IS NULL")
            .bind(now)
            .bind(name)
            .execute(&self.pool)
            .await?;
        self.end_sessions(name).await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many users can sign in.
    pub async fn active(&self) -> Result<i64, AccessError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE disabled_at IS NULL").fetch_one(&self.pool).await?;
        Ok(n)
    }

    pub async fn list(&self) -> Result<Vec<UserRecord>, AccessError> {
        let sql = format!("SELECT {} FROM users ORDER BY name", UserRecord::columns());
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(crate::db::from_row).collect::<Result<_, _>>()?)
    }

    /// A session for `name` if the password is theirs and they are not
    /// disabled. An unknown name costs the same hashing as a wrong password,
    /// so timing does not tell which names exist.
    pub async fn sign_in(
        &self,
        name: &str,
        password: &str,
        now: EpochMs,
        ttl_ms: i64,
    ) -> Result<Option<Session>, AccessError> {
        let sql = format!("SELECT {}, password_hash FROM users WHERE name = $1", UserRecord::columns());
        let row = sqlx::query(&sql).bind(name).fetch_optional(&self.pool).await?;
        let (user, stored) = match &row {
            Some(r) => (Some(crate::db::from_row::<UserRecord>(r)?), crate::db::col::<String>(r, "password_hash")?),
            None => (None, DECOY.to_owned()),
        };
        let matches = verified(password, stored).await?;
        let Some(user) = user.filter(|u| matches && u.disabled_at.is_none()) else { return Ok(None) };
        let principal = principal_of(user)?;
        let session = Session { secret: random_hex::<32>(), csrf: random_hex::<32>(), principal };
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_name, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(digest(&session.secret))
        .bind(name)
        .bind(&session.csrf)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(Some(session))
    }

    /// The live session whose cookie secret is `secret`, with its user.
    pub async fn session(&self, secret: &str, now: EpochMs) -> Result<Option<Session>, AccessError> {
        // The live session as a table of its own two columns, so the user's
        // column list needs no table prefix.
        let sql = format!(
            "SELECT {}, s.csrf FROM users \
             JOIN (SELECT user_name, csrf FROM sessions WHERE id_hash = $1 AND expires_at > $2) s \
             ON s.user_name = users.name WHERE disabled_at IS NULL",
            UserRecord::columns()
        );
        let Some(row) = sqlx::query(&sql).bind(digest(secret)).bind(now).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let principal = principal_of(crate::db::from_row(&row)?)?;
        Ok(Some(Session { secret: secret.to_owned(), csrf: crate::db::col(&row, "csrf")?, principal }))
    }

    /// Ends the session whose cookie secret is `secret`.
    pub async fn sign_out(&self, secret: &str) -> Result<(), AccessError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(digest(secret)).execute(&self.pool).await?;
        Ok(())
    }

    async fn end_sessions(&self, name: &str) -> Result<(), AccessError> {
        sqlx::query("DELETE FROM sessions WHERE user_name = $1").bind(name).execute(&self.pool).await?;
        Ok(())
    }
}

/// A hash no password matches, verified against for unknown names.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$H6ZIlWEWZv8XNcqP0bFGHDuBjo4jjsC5Y0qnrXBbTTQ";

/// Argon2 takes ~20 MiB and tens of milliseconds of a core per call: it runs
/// off the async workers (which carry ingestion), two at a time at most.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn off_the_workers<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AccessError> {
    let _turn = HASHING.acquire().await.map_err(|e| AccessError::Invalid(e.to_string()))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| AccessError::Invalid(format!("password hashing: {e}")))
}

async fn hashed(password: &str) -> Result<String, AccessError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AccessError::Invalid(format!("a password has at least {MIN_PASSWORD} characters")));
    }
    let password = password.to_owned();
    off_the_workers(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
        let hash = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| e.to_string())?;
        Ok::<_, String>(hash.to_string())
    })
    .await?
    .map_err(|e| AccessError::Invalid(format!("password hash: {e}")))
}

async fn verified(password: &str, stored: String) -> Result<bool, AccessError> {
    let password = password.to_owned();
    off_the_workers(move || {
        PasswordHash::new(&stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
}

fn principal_of(u: UserRecord) -> Result<Principal, AccessError> {
    Principal::stored(&format!("user {}", u.name), &u.name, u.role, u.engineer_id, u.customer)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoy_is_a_hash_argon2_verifies_against() {
        assert!(argon2::password_hash::PasswordHash::new(super::DECOY).is_ok());
    }
}
