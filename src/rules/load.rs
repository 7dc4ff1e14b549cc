//! Reads rule files: raw TOML first, then validated rule objects, so that
//! every mistake is reported with the file, the line and the reason.

use super::health::HealthNet;
use super::model::{Bound, Check, Condition, Detector, HealthModelFile, ModelRules, PartRef, Rule, RuleSet};
use crate::model::{FaultCode, MetricName, ModelId, PartNumber, RuleId, Severity, SkillName, Span, TicketKind};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A rule file that cannot be used, located as precisely as known.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

impl std::error::Error for RuleError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    model: Spanned<String>,
    asset_prefix: String,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    fault: String,
    #[serde(default = "default_kind")]
    kind: TicketKind,
    severity: Severity,
    description: RawText,
    /// The fault is in a core component (warranty: exchanged, not repaired, in the first year).
    #[serde(default)]
    core: bool,
    #[serde(rename = "for", default)]
    hold_for: Span,
    clear_after: Option<Span>,
    skills: Option<Spanned<BTreeMap<String, u8>>>,
    #[serde(default)]
    parts: Vec<Spanned<RawPart>>,
    when: Spanned<RawCondition>,
}

/// A text in English, or in English and translations:
/// `description.en = "..."` with `description.zh-CN = "..."`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawText {
    English(String),
    Translated(BTreeMap<String, String>),
}

/// The English text and the translations, each in a language the consoles speak.
fn build_text(raw: RawText, span: std::ops::Range<usize>) -> Located<(String, BTreeMap<String, String>)> {
    let mut texts = match raw {
        RawText::English(en) => return Ok((en, BTreeMap::new())),
        RawText::Translated(texts) => texts,
    };
    if let Some(other) = texts.keys().find(|l| !crate::rules::LANGUAGES.contains(&l.as_str())) {
        let known = crate::rules::LANGUAGES.join(", ");
        return Err((Some(span), format!("description in unknown language '{other}'; known: {known}")));
    }
    let en = texts
        .remove("en")
        .ok_or_else(|| (Some(span), "a translated description needs its English text (en)".to_string()))?;
    Ok((en, texts))
}

fn default_kind() -> TicketKind {
    TicketKind::Repair
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    part: String,
    qty: u32,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    all: Option<Vec<Spanned<RawCondition>>>,
    any: Option<Vec<Spanned<RawCondition>>>,
    metric: Option<String>,
    detector: Option<String>,
    above: Option<f64>,
    below: Option<f64>,
    held: Option<Span>,
    after: Option<Span>,
    horizon: Option<Span>,
    fit: Option<Span>,
    metrics: Option<Vec<String>>,
    model: Option<String>,
}

/// Parses and validates one rule file's text; files it names (health
/// models) are read relative to `path`'s directory.
pub fn parse_file(path: &Path, text: &str) -> Result<ModelRules, RuleError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let at = |span: std::ops::Range<usize>, reason: String| RuleError {
        file: path.to_owned(),
        line: Some(line_of(text, span.start)),
        reason,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| RuleError {
        file: path.to_owned(),
        line: e.span().map(|s| line_of(text, s.start)),
        reason: e.message().to_owned(),
    })?;
    if raw.model.get_ref().trim().is_empty() || raw.asset_prefix.trim().is_empty() {
        return Err(at(raw.model.span(), "model and asset_prefix must not be empty".into()));
    }
    let mut seen = HashSet::new();
    let mut faults = HashSet::new();
    let mut rules = Vec::with_capacity(raw.rules.len());
    for spanned in raw.rules {
        let span = spanned.span();
        let rule =
            build_rule(spanned.into_inner(), dir).map_err(|(s, reason)| at(s.unwrap_or(span.clone()), reason))?;
        if !seen.insert(rule.id.clone()) {
            return Err(at(span, format!("duplicate rule id '{}'", rule.id)));
        }
        // One open ticket per asset and fault: two rules with one fault code
        // would silently share tickets (and one's severity would never show).
        if !faults.insert(rule.fault.clone()) {
            return Err(at(span, format!("fault '{}' is already named by another rule of this model", rule.fault)));
        }
        rules.push(rule);
    }
    if rules.is_empty() {
        return Err(RuleError { file: path.to_owned(), line: None, reason: "no [[rule]] defined".into() });
    }
    Ok(ModelRules::new(ModelId::new(raw.model.into_inner()), raw.asset_prefix, rules))
}

type Located<T> = Result<T, (Option<std::ops::Range<usize>>, String)>;

fn build_rule(raw: RawRule, dir: &Path) -> Located<Rule> {
    let id_span = raw.id.span();
    let id = raw.id.into_inner();
    if id.trim().is_empty() || raw.fault.trim().is_empty() {
        return Err((Some(id_span), "id and fault must not be empty".into()));
    }
    let skills_span = raw.skills.as_ref().map_or(id_span.clone(), |s| s.span());
    let skills = raw.skills.map(Spanned::into_inner).unwrap_or_default();
    if let Some((skill, level)) = skills.iter().find(|(_, l)| !(1..=3).contains(*l)) {
        return Err((Some(skills_span), format!("skill '{skill}' has level {level}; levels are 1 to 3")));
    }
    if raw.kind == TicketKind::Repair && skills.is_empty() {
        return Err((Some(id_span), "a repair rule must name at least one skill".into()));
    }
    let parts = raw.parts.into_iter().map(build_part).collect::<Located<Vec<_>>>()?;
    if let Some(dup) = parts.iter().enumerate().find(|(i, p)| parts[..*i].iter().any(|q| q.part == p.part)) {
        return Err((
            Some(id_span),
            format!("part '{}' is listed twice; give one line with the total qty", dup.1.part),
        ));
    }
    let (description, translations) = build_text(raw.description, id_span.clone())?;
    let when_span = raw.when.span();
    let when = build_condition(raw.when.into_inner(), dir).map_err(|(s, r)| (s.or(Some(when_span)), r))?;
    Ok(Rule {
        id: RuleId::new(id),
        fault: FaultCode::new(raw.fault),
        kind: raw.kind,
        severity: raw.severity,
        description,
        translations,
        core: raw.core,
        hold_for: raw.hold_for,
        clear_after: raw.clear_after.unwrap_or(raw.hold_for),
        skills: skills.into_iter().map(|(k, v)| (SkillName::new(k), v)).collect(),
        parts,
        when,
    })
}

fn build_part(raw: Spanned<RawPart>) -> Located<PartRef> {
    let span = raw.span();
    let p = raw.into_inner();
    if p.qty == 0 || p.part.trim().is_empty() {
        return Err((Some(span), "a part needs a part number and a quantity of at least 1".into()));
    }
    Ok(PartRef { part: PartNumber::new(p.part), qty: p.qty })
}

fn build_condition(raw: RawCondition, dir: &Path) -> Located<Condition> {
    let group = |items: Vec<Spanned<RawCondition>>| -> Located<Vec<Condition>> {
        if items.is_empty() {
            return Err((None, "'all' and 'any' need at least one condition".into()));
        }
        items
            .into_iter()
            .map(|c| {
                let span = c.span();
                build_condition(c.into_inner(), dir).map_err(|(s, r)| (s.or(Some(span)), r))
            })
            .collect()
    };
    let mut raw = raw;
    let is_check = raw.metric.is_some() || raw.metrics.is_some();
    match (raw.all.take(), raw.any.take(), is_check) {
        (Some(_), Some(_), _) | (Some(_), _, true) | (_, Some(_), true) => {
            Err((None, "a condition is exactly one of: all = [...], any = [...], or a metric check".into()))
        }
        (Some(all), None, false) => Ok(Condition::All(group(all)?)),
        (None, Some(any), false) => Ok(Condition::Any(group(any)?)),
        (None, None, _) => build_check(raw, dir).map(Condition::Check),
    }
}

fn build_check(mut raw: RawCondition, dir: &Path) -> Located<Check> {
    let fail = |r: String| Err((None, r));
    let listed = raw.metrics.take().map(|ms| ms.into_iter().map(MetricName::new).collect::<Vec<_>>());
    let metric = match (raw.metric.take(), &listed) {
        (Some(m), None) if !m.trim().is_empty() => m,
        (None, Some(ms)) if !ms.is_empty() => ms[0].to_string(),
        (Some(_), Some(_)) => return fail("a check takes 'metric' or 'metrics', not both".into()),
        _ => return fail("a check needs 'metric' (or use all/any)".into()),
    };
    let Some(name) = raw.detector.take() else {
        return fail(format!("check on '{metric}' needs 'detector'"));
    };
    let bound = match (raw.above, raw.below) {
        (Some(a), None) if a.is_finite() => Some(Bound::Above(a)),
        (None, Some(b)) if b.is_finite() => Some(Bound::Below(b)),
        (None, None) => None,
        _ => return fail(format!("check on '{metric}': give exactly one finite 'above' or 'below'")),
    };
    let allowed: &[&str] = match name.as_str() {
        "threshold" => &["bound", "held"],
        "rate" | "baseline" | "anomaly" | "robust" | "cusum" | "seasonal" => &["bound"],
        "stale" => &["after"],
        "flatline" => &["held"],
        "forecast" => &["bound", "horizon", "fit"],
        "multivariate" => &["bound", "metrics"],
        "health" => &["bound", "metrics", "model"],
        other => return fail(format!("unknown detector '{other}' ({})", DETECTORS.join(", "))),
    };
    let given = [("bound", bound.is_some()), ("held", raw.held.is_some()), ("after", raw.after.is_some())]
        .into_iter()
        .chain([("horizon", raw.horizon.is_some()), ("fit", raw.fit.is_some()), ("metrics", listed.is_some())])
        .chain([("model", raw.model.is_some())]);
    if let Some((key, _)) = given.filter(|(_, g)| *g).find(|(k, _)| !allowed.contains(k)) {
        let key = if key == "bound" { "above/below" } else { key };
        return fail(format!("detector '{name}' on '{metric}' does not take '{key}'"));
    }
    let detector = detector(&name, &metric, bound, listed, raw, dir)?;
    Ok(Check { metric: MetricName::new(metric), detector })
}

const DETECTORS: [&str; 12] = [
    "threshold",
    "rate",
    "baseline",
    "stale",
    "flatline",
    "forecast",
    "anomaly",
    "robust",
    "cusum",
    "seasonal",
    "multivariate",
    "health",
];

/// Builds a detector whose keys have been checked against what it takes.
fn detector(
    name: &str,
    metric: &str,
    bound: Option<Bound>,
    listed: Option<Vec<MetricName>>,
    raw: RawCondition,
    dir: &Path,
) -> Located<Detector> {
    let need_bound = || bound.ok_or((None, format!("detector '{name}' on '{metric}' needs 'above' or 'below'")));
    let need = |v: Option<Span>, key: &str| match v {
        Some(span) if span.as_millis() > 0 => Ok(span),
        Some(_) => Err((None, format!("detector '{name}' on '{metric}': '{key}' must be longer than 0"))),
        None => Err((None, format!("detector '{name}' on '{metric}' needs '{key}'"))),
    };
    Ok(match name {
        "threshold" => Detector::Threshold { bound: need_bound()?, held: raw.held.unwrap_or_default() },
        "rate" => Detector::Rate { bound: need_bound()? },
        "baseline" => Detector::Baseline { bound: need_bound()? },
        "stale" => Detector::Stale { after: need(raw.after, "after")? },
        "flatline" => Detector::Flatline { held: need(raw.held, "held")? },
        "forecast" => Detector::Forecast {
            bound: need_bound()?,
            horizon: need(raw.horizon, "horizon")?,
            fit: need(raw.fit.or(Some(Span::from_hours(6))), "fit")?,
        },
        "anomaly" => Detector::Anomaly { bound },
        "robust" => Detector::Robust { bound: need_bound()? },
        "cusum" => Detector::Cusum { bound: need_bound()? },
        "seasonal" => Detector::Seasonal { bound: need_bound()? },
        "multivariate" => match listed {
            Some(metrics) if metrics.len() >= 2 => Detector::Multivariate { bound: need_bound()?, metrics },
            _ => return Err((None, "detector 'multivariate' needs 'metrics' with at least two metrics".into())),
        },
        _ => {
            let metrics = listed.unwrap_or_else(|| vec![MetricName::new(metric)]);
            let file = raw.model.ok_or((None, "detector 'health' needs 'model' (a fitted model file)".into()))?;
            let model = health_model(dir, file, metrics.len()).map_err(|r| (None, r))?;
            Detector::Health { bound: need_bound()?, metrics, model }
        }
    })
}

/// Loads a health model file named relative to the rule file's directory
/// and checks it reads as many sensors as the rule lists.
fn health_model(dir: &Path, file: String, sensors: usize) -> Result<HealthModelFile, String> {
    let path = dir.join(&file);
    let read = || -> Result<HealthNet, String> {
        let net: HealthNet = serde_json::from_str(&std::fs::read_to_string(&path).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        match net.invalid() {
            Some(reason) => Err(reason),
            None if net.sensors != sensors => {
                Err(format!("it reads {} sensors, the rule lists {sensors}", net.sensors))
            }
            None => Ok(net),
        }
    };
    let net = read().map_err(|reason| format!("health model '{}': {reason}", path.display()))?;
    Ok(HealthModelFile { file, net: std::sync::Arc::new(net) })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// Loads every `*.toml` file in `dir` (sorted by name); one model per file.
pub fn load_dir(dir: &Path) -> Result<RuleSet, Vec<RuleError>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![RuleError { file: dir.to_owned(), line: None, reason: format!("cannot read rules directory: {e}") }]
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut set = RuleSet::default();
    let mut errors = Vec::new();
    for path in paths {
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| RuleError { file: path.clone(), line: None, reason: e.to_string() })
            .and_then(|text| parse_file(&path, &text));
        match parsed {
            Ok(m) if set.models.contains_key(&m.model) => errors.push(RuleError {
                file: path,
                line: None,
                reason: format!("model '{}' is already defined by another file", m.model),
            }),
            Ok(m) => {
                set.models.insert(m.model.clone(), std::sync::Arc::new(m));
            }
            Err(e) => errors.push(e),
        }
    }
    if set.models.is_empty() && errors.is_empty() {
        errors.push(RuleError { file: dir.to_owned(), line: None, reason: "no rule files (*.toml) found".into() });
    }
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
