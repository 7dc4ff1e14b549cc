//! Findings kept aside: a rule fired but a write it needed failed on its own
//! data. Stored with the stage, the reason and the whole finding, counted in
//! `upkeep_dead_findings_total`, listed at `GET /api/v1/dead-findings`.

use crate::db::{col, DbError};
use crate::detect::Finding;
use crate::model::{AssetId, EpochMs, RuleId};
use serde::Serialize;

crate::model::named_enum! {
    /// Which write of a finding failed. A ticket's whole opening (assessment,
    /// assignment, parts, quote) is one transaction and fails as `Open`;
    /// `Assess`, `Dispatch`, `Parts` and `Quote` name the separate writes of
    /// versions before it, kept so that their stored findings still read.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Stage: "dead-finding stage" {
        Open = "open",
        Assess = "assess",
        Dispatch = "dispatch",
        Parts = "parts",
        Quote = "quote",
        Severity = "severity",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadFinding {
    pub id: String,
    pub kept_at: EpochMs,
    pub asset_id: AssetId,
    pub rule_id: RuleId,
    pub stage: Stage,
    pub reason: String,
    pub finding: serde_json::Value,
}

impl DeadFinding {
    pub fn new(f: &Finding, stage: Stage, reason: &str, kept_at: EpochMs) -> DeadFinding {
        DeadFinding {
            id: uuid::Uuid::new_v4().simple().to_string(),
            kept_at,
            asset_id: f.asset.clone(),
            rule_id: f.rule.clone(),
            stage,
            reason: reason.replace('\0', "\u{fffd}"),
            finding: serde_json::to_value(f).unwrap_or_default(),
        }
    }
}

crate::db::store!(
    /// Findings whose ticket writes failed on their own data, kept to replay.
    DeadFindingStore,
    dead_findings
);

impl DeadFindingStore {
    pub async fn insert_dead_finding(&self, d: &DeadFinding) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO dead_findings (id, kept_at, asset_id, rule_id, stage, reason, finding) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&d.id)
        .bind(d.kept_at)
        .bind(d.asset_id.as_str())
        .bind(d.rule_id.as_str())
        .bind(d.stage.as_str())
        .bind(&d.reason)
        .bind(d.finding.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Newest first.
    pub async fn dead_findings(&self, limit: i64, offset: i64) -> Result<Vec<DeadFinding>, DbError> {
        let sql = format!(
            "SELECT id, kept_at, asset_id, rule_id, stage, reason, finding FROM dead_findings \
             ORDER BY kept_at DESC, id LIMIT {} OFFSET {}",
            limit.clamp(1, 1000),
            offset.max(0)
        );
        sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let stage: String = col(r, "stage")?;
                let finding: String = col(r, "finding")?;
                Ok(DeadFinding {
                    id: col(r, "id")?,
                    kept_at: col(r, "kept_at")?,
                    asset_id: AssetId::new(col::<String>(r, "asset_id")?),
                    rule_id: RuleId::new(col::<String>(r, "rule_id")?),
                    stage: crate::db::parse(&stage)?,
                    reason: col(r, "reason")?,
                    finding: serde_json::from_str(&finding).map_err(|e| DbError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }
}
