//! Prometheus text exposition: the `# HELP` / `# TYPE` header of a metric
//! family and its samples, written the same way by every part of the engine
//! that exposes metrics.

use std::fmt::{Display, Write};

/// A metric family's type, as the exposition format names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Summary,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Summary => "summary",
        }
    }
}

/// The header of a family whose samples follow (labelled ones, say).
pub fn header(out: &mut String, name: &str, kind: Kind, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {}", kind.as_str());
}

/// A family with one unlabelled sample.
pub fn single(out: &mut String, name: &str, kind: Kind, help: &str, value: impl Display) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_is_its_help_type_and_sample_lines() {
        let mut out = String::new();
        single(&mut out, "x_total", Kind::Counter, "Things", 3);
        header(&mut out, "y", Kind::Gauge, "Level");
        assert_eq!(out, "# HELP x_total Things\n# TYPE x_total counter\nx_total 3\n# HELP y Level\n# TYPE y gauge\n");
    }
}
