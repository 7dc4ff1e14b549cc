//! Records read from rows, written once: `record!` declares a struct whose
//! fields are named after their columns, and derives its column list and
//! its row mapping from that one declaration. A field's type says how its
//! column is read (`Column`); a field that is itself a record reads its
//! own columns, so a wide row groups into sub-structs without a second list.

use super::{col, DbError};
use sqlx::any::AnyRow;

/// A value read from the column `name` (or, for a record, from its columns).
pub trait Column: Sized {
    /// The columns it is read from: `name` itself, or a record's columns.
    fn columns(name: &'static str, out: &mut Vec<&'static str>) {
        out.push(name);
    }
    fn read(row: &AnyRow, name: &str) -> Result<Self, DbError>;
}

macro_rules! plain_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn read(row: &AnyRow, name: &str) -> Result<Self, DbError> {
                col(row, name)
            }
        }
    )*};
}
plain_column!(i64, f64, String, Option<i64>, Option<String>);

/// Stored as 0 or 1 (SQLite has no booleans).
impl Column for bool {
    fn read(row: &AnyRow, name: &str) -> Result<Self, DbError> {
        Ok(col::<i64>(row, name)? != 0)
    }
}

/// Parses a stored text into `T`; a value `T` does not know is a corrupt row.
pub fn parse<T: std::str::FromStr>(s: &str) -> Result<T, DbError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| DbError::Corrupt(e.to_string()))
}

/// Types stored as their text (ids, stored enums), nullable or not.
macro_rules! text_column {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::db::Column for $t {
            fn read(row: &sqlx::any::AnyRow, name: &str) -> Result<Self, $crate::db::DbError> {
                $crate::db::parse(&$crate::db::col::<String>(row, name)?)
            }
        }

        impl $crate::db::Column for Option<$t> {
            fn read(row: &sqlx::any::AnyRow, name: &str) -> Result<Self, $crate::db::DbError> {
                $crate::db::col::<Option<String>>(row, name)?.map(|s| $crate::db::parse(&s)).transpose()
            }
        }
    )*};
}
pub(crate) use text_column;

/// Nullable columns holding a JSON document of `T`.
macro_rules! json_column {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::db::Column for Option<$t> {
            fn read(row: &sqlx::any::AnyRow, name: &str) -> Result<Self, $crate::db::DbError> {
                $crate::db::col::<Option<String>>(row, name)?
                    .map(|text| {
                        serde_json::from_str(&text)
                            .map_err(|e| $crate::db::DbError::Corrupt(format!("{name}: {e}")))
                    })
                    .transpose()
            }
        }
    )*};
}
pub(crate) use json_column;

/// Declares a record: the struct, its `Column` impl (its columns, in
/// field order, and its row mapping). Field names are column names.
macro_rules! record {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $crate::db::Column for $name {
            fn columns(_: &'static str, out: &mut Vec<&'static str>) {
                $(<$ty as $crate::db::Column>::columns(stringify!($field), out);)*
            }

            fn read(row: &sqlx::any::AnyRow, _: &str) -> Result<Self, $crate::db::DbError> {
                Ok($name { $($field: <$ty as $crate::db::Column>::read(row, stringify!($field))?,)* })
            }
        }

        impl $name {
            /// The record's columns as a `SELECT` list, built once.
            #[allow(dead_code)]
            pub fn columns() -> &'static str {
                static COLUMNS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                COLUMNS.get_or_init($crate::db::column_list::<$name>)
            }
        }
    };
}
pub(crate) use record;

/// `T`'s columns as a `SELECT` list, `a, b, c`.
pub fn column_list<T: Column>() -> String {
    let mut out = Vec::new();
    T::columns("", &mut out);
    out.join(", ")
}

/// Reads a record from a row.
pub fn from_row<T: Column>(row: &AnyRow) -> Result<T, DbError> {
    T::read(row, "")
}

text_column!(
    crate::model::AssetId,
    crate::model::EngineerId,
    crate::model::FaultCode,
    crate::model::ModelId,
    crate::model::RuleId,
    crate::model::TicketId,
    crate::model::Severity,
    crate::model::TicketKind,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Severity, TicketId};

    record! {
        #[derive(Debug, PartialEq)]
        pub struct Inner {
            pub severity: Severity,
            pub flag: bool,
        }
    }

    record! {
        #[derive(Debug, PartialEq)]
        pub struct Outer {
            pub id: TicketId,
            pub inner: Inner,
            pub note: Option<String>,
        }
    }

    #[tokio::test]
    async fn a_record_reads_its_columns_and_its_sub_records_columns() {
        let (db, _dir) = super::super::temp_sqlite().await;
        assert_eq!(Outer::columns(), "id, severity, flag, note");
        let row = sqlx::query("SELECT 'TK-1' AS id, 'major' AS severity, 1 AS flag, NULL AS note")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let inner = Inner { severity: Severity::Major, flag: true };
        assert_eq!(from_row::<Outer>(&row).unwrap(), Outer { id: TicketId::new("TK-1"), inner, note: None });
        let bad = sqlx::query("SELECT 'TK-1' AS id, 'huge' AS severity, 1 AS flag, NULL AS note")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert!(matches!(from_row::<Outer>(&bad), Err(DbError::Corrupt(_))), "an unknown severity is a corrupt row");
    }
}
