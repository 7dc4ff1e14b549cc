//! Declarative rules: per equipment model, detector conditions combined with
//! AND/OR, held for a minimum duration, with hysteresis, naming the fault,
//! its severity, the skills and the parts a repair needs; and the fitted
//! health network a model's rules may name, with the features it reads.

mod config;
mod eval;
pub mod health;
mod load;
mod model;

pub use config::RulesConfig;
pub use eval::{Firing, RuleState, Timing};
pub use load::{load_dir, parse_file, RuleError};
/// The languages of the consoles: rule texts may be given in each.
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

pub use model::{Bound, Check, Condition, Detector, ModelRules, PartRef, Rule, RuleSet};

/// The rule files shipped in `rules/` (for tests).
#[cfg(test)]
pub(crate) fn shipped() -> RuleSet {
    load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).expect("shipped rules load")
}
