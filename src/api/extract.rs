//! Query, path and JSON extractors whose rejections are `ApiError`s, so a bad
//! parameter gets the same typed JSON error as everything else.

use super::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| Json(j.0))
            .map_err(|e| ApiError::new(e.status(), "invalid_body", e.body_text()))
    }
}

/// The query of a list with no filters: a page only.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        Page::new(self.limit, self.offset)
    }
}

/// `limit` (1..=1000, default 50) and `offset` shared by every list.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Result<Page, ApiError> {
        let page = Page { limit: limit.unwrap_or(50), offset: offset.unwrap_or(0) };
        if !(1..=1000).contains(&page.limit) || page.offset < 0 {
            return Err(ApiError::bad_request("limit must be 1..=1000 and offset >= 0"));
        }
        Ok(page)
    }

    /// The list envelope: items plus the offset of the next page, if any.
    pub fn wrap<T: serde::Serialize>(self, items: Vec<T>) -> serde_json::Value {
        let next = (items.len() as i64 == self.limit).then_some(self.offset + self.limit);
        serde_json::json!({ "items": items, "limit": self.limit, "offset": self.offset, "next_offset": next })
    }

    /// This page of an in-memory list.
    pub fn slice<T: Clone>(self, all: &[T]) -> Vec<T> {
        all.iter().skip(self.offset as usize).take(self.limit as usize).cloned().collect()
    }
}
