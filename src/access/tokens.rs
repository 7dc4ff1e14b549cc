//! API tokens: 256 random bits, shown once when issued and stored only as
//! their SHA-256, so the database never holds what a caller presents. A
//! token's hash is its lookup key: checking one compares no secret bytes.

use super::secret::{digest, random_hex};
use super::{AccessError, Principal, Role};
use crate::model::{EngineerId, EpochMs};
use serde::Serialize;

crate::db::store!(
    /// API tokens: issue, list and revoke them, and find whom a presented one stands for.
    TokenStore,
    tokens
);

crate::db::record! {
    /// A token as listed: never its secret.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct TokenRecord {
        pub id: String,
        pub name: String,
        pub role: Role,
        pub engineer_id: Option<EngineerId>,
        pub customer: Option<String>,
        pub created_at: EpochMs,
        pub revoked_at: Option<EpochMs>,
    }
}

/// A token just issued: the only time its secret exists outside the caller.
#[derive(Clone, Serialize)]
pub struct IssuedToken {
    #[serde(flatten)]
    pub record: TokenRecord,
    pub token: String,
}

/// Never the secret: a `Debug` may end up in a log line.
impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken").field("record", &self.record).finish_non_exhaustive()
    }
}

/// Marks upkeep's tokens in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "upk_";

impl TokenStore {
    /// A new token for `p`.
    pub async fn issue(&self, p: &Principal, now: EpochMs) -> Result<IssuedToken, AccessError> {
        let token = format!("{TOKEN_PREFIX}{}", random_hex::<32>());
        let record = TokenRecord {
            id: format!("TOK-{}", random_hex::<6>()),
            name: p.name.clone(),
            role: p.role,
            engineer_id: p.engineer().cloned(),
            customer: p.customer().map(str::to_owned),
            created_at: now,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, name, role, engineer_id, customer, hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&record.id)
        .bind(&record.name)
        .bind(record.role.as_str())
        .bind(record.engineer_id.as_ref().map(|e| e.to_string()))
        .bind(&record.customer)
        .bind(digest(&token))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(IssuedToken { record, token })
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn list(&self) -> Result<Vec<TokenRecord>, AccessError> {
        let sql = format!("SELECT {} FROM api_tokens ORDER BY created_at, id", TokenRecord::columns());
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(crate::db::from_row).collect::<Result<_, _>>()?)
    }

    /// Revokes a token; false when there is no such live token.
    pub async fn revoke(&self, id: &str, now: EpochMs) -> Result<bool, AccessError> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whom a presented token stands for; `None` when unknown or revoked.
    pub async fn principal(&self, token: &str) -> Result<Option<Principal>, AccessError> {
        let sql = format!("SELECT {} FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL", TokenRecord::columns());
        let Some(row) = sqlx::query(&sql).bind(digest(token)).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let r: TokenRecord = crate::db::from_row(&row)?;
        Principal::stored(&format!("token {}", r.id), &r.name, r.role, r.engineer_id, r.customer).map(Some)
    }

    /// How many tokens can be used: an engine listening beyond loopback needs one.
    pub async fn live(&self) -> Result<i64, AccessError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
