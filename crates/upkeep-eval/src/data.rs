//! Readers for the benchmark files: every one becomes a `Table` of event
//! times and named numeric columns, with the benchmark's labels beside it.

use super::{read, EvalError};
use chrono::NaiveDateTime;
use std::path::{Path, PathBuf};
use upkeep::model::EpochMs;

/// Rows of one file: event time and one value per column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub ts: Vec<EpochMs>,
    pub rows: Vec<Vec<f64>>,
}

fn bad(path: &Path, line: usize, reason: impl Into<String>) -> EvalError {
    EvalError::Format { path: path.to_owned(), line, reason: reason.into() }
}

/// `YYYY-MM-DD HH:MM:SS[.f]` as UTC epoch ms.
pub fn parse_time(s: &str) -> Option<EpochMs> {
    let s = s.trim();
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc().timestamp_millis())
}

/// Epoch ms as `YYYY-MM-DD HH:MM:SS` (UTC), the benchmarks' own format.
pub fn format_time(ts: EpochMs) -> impl std::fmt::Display {
    chrono::DateTime::from_timestamp_millis(ts).unwrap_or_default().format("%Y-%m-%d %H:%M:%S")
}

fn number(path: &Path, line: usize, s: &str) -> Result<f64, EvalError> {
    s.trim().parse::<f64>().map_err(|_| bad(path, line, format!("'{s}' is not a number")))
}

/// A delimited file whose first field is a timestamp and the rest numbers
/// (NAB, SKAB and IMS share this shape). The header names the columns.
pub fn read_timed_csv(path: &Path, sep: char) -> Result<Table, EvalError> {
    let text = read(path)?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| bad(path, 1, "empty file"))?;
    let columns: Vec<String> = header.split(sep).skip(1).map(|c| c.trim().to_owned()).collect();
    let mut table = Table { columns, ..Table::default() };
    for (i, line) in lines {
        let mut fields = line.split(sep);
        let when = fields.next().unwrap_or_default();
        let ts = parse_time(when).ok_or_else(|| bad(path, i + 1, format!("'{when}' is not a timestamp")))?;
        let row = fields.map(|f| number(path, i + 1, f)).collect::<Result<Vec<_>, _>>()?;
        if row.len() != table.columns.len() {
            return Err(bad(path, i + 1, format!("{} values for {} columns", row.len(), table.columns.len())));
        }
        table.ts.push(ts);
        table.rows.push(row);
    }
    Ok(table)
}

/// C-MAPSS: space-separated `unit cycle setting1..3 sensor1..21`, one table per unit.
/// Event time is the cycle number times `cycle_ms`; the cycle is also a
/// column (`cycle`), as a device reports its operating hours.
pub fn read_cmapss(path: &Path, cycle_ms: i64) -> Result<Vec<(u32, Table)>, EvalError> {
    let text = read(path)?;
    let columns: Vec<String> = std::iter::once("cycle".to_owned())
        .chain((1..=3).map(|i| format!("setting{i}")))
        .chain((1..=21).map(|i| format!("sensor{i}")))
        .collect();
    let mut units: Vec<(u32, Table)> = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<f64> = line.split_whitespace().map(|s| number(path, i + 1, s)).collect::<Result<_, _>>()?;
        if f.len() != 26 {
            return Err(bad(path, i + 1, format!("{} fields, expected 26", f.len())));
        }
        let unit = f[0] as u32;
        if units.last().is_none_or(|(u, _)| *u != unit) {
            units.push((unit, Table { columns: columns.clone(), ..Table::default() }));
        }
        let table = &mut units.last_mut().expect("pushed above").1;
        table.ts.push(f[1] as i64 * cycle_ms);
        table.rows.push(f[1..].to_vec());
    }
    Ok(units)
}

/// FEMTO features: `snapshot,hour,minute,second,<features>`; snapshots are
/// 10 s apart, so event time is the snapshot index times 10 s.
pub fn read_femto(path: &Path) -> Result<Table, EvalError> {
    let text = read(path)?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| bad(path, 1, "empty file"))?;
    let columns: Vec<String> = header.split(',').skip(4).map(str::to_owned).collect();
    let mut table = Table { columns, ..Table::default() };
    for (i, line) in lines {
        let f: Vec<f64> = line.split(',').map(|s| number(path, i + 1, s)).collect::<Result<_, _>>()?;
        if f.len() != table.columns.len() + 4 {
            return Err(bad(path, i + 1, "wrong number of fields"));
        }
        table.ts.push(f[0] as i64 * 10_000);
        table.rows.push(f[4..].to_vec());
    }
    Ok(table)
}

/// Every file with extension `ext` under `dir`, sorted, at any depth.
pub fn files_under(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, EvalError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| EvalError::Io { path: d.clone(), source })?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn reads_a_nab_file() {
        let (_d, p) = temp("a.csv", "timestamp,value\n2014-04-01 00:00:00,1.5\n2014-04-01 00:05:00,2\n");
        let t = read_timed_csv(&p, ',').unwrap();
        assert_eq!(t.columns, ["value"]);
        assert_eq!(t.ts[1] - t.ts[0], 300_000);
        assert_eq!(t.rows, [[1.5], [2.0]]);
    }

    #[test]
    fn a_bad_number_names_the_line() {
        let (_d, p) = temp("a.csv", "timestamp,value\n2014-04-01 00:00:00,x\n");
        let e = read_timed_csv(&p, ',').unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("'x'"), "{e}");
    }

    #[test]
    fn reads_cmapss_units() {
        let row = |u: u32, c: u32| format!("{u} {c} 0 0 100 {}\n", vec!["1.0"; 21].join(" "));
        let (_d, p) = temp("t.txt", &(row(1, 1) + &row(1, 2) + &row(2, 1)));
        let units = read_cmapss(&p, 1000).unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(units[0].1.ts, [1000, 2000]);
        assert_eq!(units[0].1.rows[0].len(), 25);
        assert_eq!(units[0].1.rows[1][0], 2.0);
    }

    #[test]
    fn reads_femto_features() {
        let (_d, p) = temp("b.csv", "snapshot,hour,minute,second,rms_h,kurt_h\n1,9,0,0,0.5,3.0\n2,9,0,10,0.6,3.1\n");
        let t = read_femto(&p).unwrap();
        assert_eq!(t.columns, ["rms_h", "kurt_h"]);
        assert_eq!(t.ts, [10_000, 20_000]);
    }
}
