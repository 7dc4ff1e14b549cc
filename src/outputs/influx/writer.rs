//! Writes line protocol to InfluxDB over HTTP: the v1 API (`/write?db=`,
//! InfluxDB 1.x, optional basic auth) or the v2 API (`/api/v2/write`, org,
//! bucket and token; InfluxDB 2.x, 3.x and Cloud). Errors say whether a
//! retry can help, so the caller can back off on outages and drop what the
//! server will never accept.

use super::config::HttpUrl;
use super::line_protocol::Precision;
use std::time::Duration;

/// Which write API, with its credentials.
#[derive(Debug, Clone, PartialEq)]
pub enum InfluxApi {
    V1 { database: String, username: Option<String>, password: Option<String> },
    V2 { org: String, bucket: String, token: String },
}

/// A server and the API to write through.
#[derive(Debug, Clone, PartialEq)]
pub struct InfluxTarget {
    /// Base URL, e.g. `http://127.0.0.1:8086`.
    pub url: HttpUrl,
    pub api: InfluxApi,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("InfluxDB unreachable: {0}")]
    Unreachable(String),
    #[error("InfluxDB answered {status}: {body}")]
    Rejected { status: u16, body: String },
}

impl WriteError {
    /// Whether the same write may succeed later: the server was unreachable,
    /// overloaded (429) or failing (5xx). Other rejections (bad request,
    /// unknown database, no permission) will not change by retrying.
    pub fn is_retriable(&self) -> bool {
        match self {
            WriteError::Unreachable(_) => true,
            WriteError::Rejected { status, .. } => *status == 429 || *status >= 500,
        }
    }
}

/// A client for one target's write endpoint.
#[derive(Debug, Clone)]
pub struct InfluxWriter {
    client: reqwest::Client,
    target: InfluxTarget,
}

/// Longest part of an error body kept in the error (InfluxDB quotes whole
/// lines back).
const BODY_LIMIT: usize = 512;

impl InfluxWriter {
    pub fn new(target: InfluxTarget, timeout: Duration) -> Result<Self, WriteError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| WriteError::Unreachable(format!("HTTP client: {e}")))?;
        Ok(InfluxWriter { client, target })
    }

    /// Sends one batch of encoded lines.
    pub async fn write(&self, lines: impl Into<reqwest::Body>, precision: Precision) -> Result<(), WriteError> {
        let base = self.target.url.as_str().trim_end_matches('/');
        let request = match &self.target.api {
            InfluxApi::V1 { database, username, password } => {
                let r = self
                    .client
                    .post(format!("{base}/write"))
                    .query(&[("db", database.as_str()), ("precision", precision.as_param())]);
                match username {
                    Some(user) => r.basic_auth(user, password.as_deref()),
                    None => r,
                }
            }
            InfluxApi::V2 { org, bucket, token } => self
                .client
                .post(format!("{base}/api/v2/write"))
                .query(&[("org", org.as_str()), ("bucket", bucket.as_str()), ("precision", precision.as_param())])
                .header(reqwest::header::AUTHORIZATION, format!("Token {token}")),
        };
        let response = request
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(lines)
            .send()
            .await
            .map_err(|e| WriteError::Unreachable(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let mut body = response.text().await.unwrap_or_default();
        if body.len() > BODY_LIMIT {
            let cut = (0..=BODY_LIMIT).rev().find(|&i| body.is_char_boundary(i)).unwrap_or(0);
            body.truncate(cut);
        }
        Err(WriteError::Rejected { status: status.as_u16(), body })
    }
}
