//! Every store error in one of three classes, decided here and nowhere else.
//! Ingest retries anything that is not provably the data's fault: an error
//! nobody classified is a retry, never a drop (a database refusing
//! connections during maintenance must stall ingest, not lose its tickets).

use super::DbError;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Passes by itself (server restarting, lock held, conflict, network):
    /// retry, starting at the hinted delay.
    Retry { hint: Duration },
    /// The row itself cannot be written (constraint, value out of range,
    /// undecodable): retrying repeats it forever; keep the input aside.
    Data,
    /// The configuration is wrong (credentials, missing database or table):
    /// an operator must act; ingest keeps retrying meanwhile.
    Fatal,
}

/// Quick retries for contention, slower ones for a server that is away.
const CONTENTION: Duration = Duration::from_millis(20);
const OUTAGE: Duration = Duration::from_millis(250);

pub trait Classify {
    fn class(&self) -> ErrorClass;

    fn is_retry(&self) -> bool {
        matches!(self.class(), ErrorClass::Retry { .. })
    }
}

impl Classify for DbError {
    fn class(&self) -> ErrorClass {
        match self {
            DbError::Sqlx(e) | DbError::Migration { source: e, .. } => e.class(),
            DbError::Corrupt(_) => ErrorClass::Data,
        }
    }
}

impl Classify for sqlx::Error {
    fn class(&self) -> ErrorClass {
        use sqlx::Error as E;
        match self {
            E::Database(e) => e.code().map_or(ErrorClass::Retry { hint: OUTAGE }, |c| classify_code(&c)),
            E::Configuration(_) | E::Tls(_) | E::Migrate(_) | E::InvalidArgument(_) => ErrorClass::Fatal,
            E::ColumnDecode { .. } | E::Decode(_) | E::Encode(_) | E::TypeNotFound { .. } => ErrorClass::Data,
            E::Io(_) | E::Protocol(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
                ErrorClass::Retry { hint: OUTAGE }
            }
            _ => ErrorClass::Retry { hint: OUTAGE },
        }
    }
}

/// PostgreSQL's codes are five-character SQLSTATEs (often all digits);
/// SQLite's are numbers of at most four digits (extended codes keep the
/// primary code in the low byte).
fn classify_code(code: &str) -> ErrorClass {
    match code.parse::<u32>() {
        Ok(n) if code.len() < 5 => sqlite(n & 0xff),
        _ => postgres(code),
    }
}

fn sqlite(primary: u32) -> ErrorClass {
    match primary {
        // BUSY, LOCKED
        5 | 6 => ErrorClass::Retry { hint: CONTENTION },
        // NOMEM, READONLY, INTERRUPT, IOERR, FULL, CANTOPEN, PROTOCOL
        7 | 8 | 9 | 10 | 13 | 14 | 15 => ErrorClass::Retry { hint: OUTAGE },
        // TOOBIG, CONSTRAINT, MISMATCH, RANGE
        18 | 19 | 20 | 25 => ErrorClass::Data,
        // ERROR (SQL: a missing table), PERM, AUTH, CORRUPT, NOTADB, SCHEMA
        1 | 3 | 23 | 11 | 26 | 17 => ErrorClass::Fatal,
        _ => ErrorClass::Retry { hint: OUTAGE },
    }
}

fn postgres(sqlstate: &str) -> ErrorClass {
    let class = sqlstate.get(..2).unwrap_or_default();
    match (class, sqlstate) {
        // serialization failure, deadlock, lock not available
        (_, "40001" | "40P01" | "55P03") => ErrorClass::Retry { hint: CONTENTION },
        // connection exceptions; insufficient resources (disk full, out of
        // memory, too many connections); not accepting connections (55000);
        // admin, crash and start-up shutdowns; canceled; read-only standby
        ("08" | "53" | "57" | "58", _) | (_, "55000" | "25006") => ErrorClass::Retry { hint: OUTAGE },
        // data exceptions and integrity violations
        ("22" | "23", _) => ErrorClass::Data,
        // credentials, missing database, syntax or missing objects
        ("28" | "3D" | "42", _) => ErrorClass::Fatal,
        _ => ErrorClass::Retry { hint: OUTAGE },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retried(c: ErrorClass) -> bool {
        matches!(c, ErrorClass::Retry { .. })
    }

    #[test]
    fn outages_and_contention_are_retried_on_both_engines() {
        for code in [
            "55000", "57P01", "57P02", "57P03", "53300", "53100", "25006", "40001", "40P01", "08006", "08001", "08003",
            "08P01",
        ] {
            assert!(retried(classify_code(code)), "{code}");
        }
        // BUSY, LOCKED, BUSY_SNAPSHOT (517), FULL, READONLY, IOERR, IOERR_WRITE (778)
        for code in ["5", "6", "517", "13", "8", "10", "778"] {
            assert!(retried(classify_code(code)), "sqlite {code}");
        }
    }

    #[test]
    fn the_data_fault_and_configuration_are_told_apart() {
        for code in ["23505", "23502", "22003", "22P02", "19", "2067", "18"] {
            assert_eq!(classify_code(code), ErrorClass::Data, "{code}");
        }
        for code in ["28P01", "3D000", "42P01", "42703", "1", "26"] {
            assert_eq!(classify_code(code), ErrorClass::Fatal, "{code}");
        }
    }

    #[test]
    fn an_unknown_error_is_a_retry_never_a_drop() {
        assert!(retried(classify_code("XX000")));
        assert!(retried(classify_code("999")));
        assert!(retried(sqlx::Error::PoolTimedOut.class()));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(retried(DbError::Sqlx(sqlx::Error::Io(refused)).class()));
        assert_eq!(DbError::Corrupt("x".into()).class(), ErrorClass::Data);
    }
}
