//! The fleet registry: assets, engineers, depots and the parts catalogue,
//! loaded from one JSON fleet file that the device simulator reads too.

mod config;
mod generate;

pub use config::FleetConfig;
pub use generate::CITIES;
pub use generate::{generate, FleetSpec};

use crate::model::{
    AssetId, DepotId, EngineerId, FaultCode, GeoPoint, Language, ModelId, PartNumber, SiteId, SkillName,
};
use crate::sla::Contract;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("cannot read fleet file {path}: {reason}")]
    Read { path: String, reason: std::io::Error },
    #[error("invalid fleet file {path}: {reason}")]
    Parse { path: String, reason: serde_json::Error },
    #[error("invalid fleet: {0}")]
    Invalid(String),
    #[error("invalid fleet file {path}, line {line}: {message}")]
    At { path: String, line: usize, message: String },
}

/// What the fleet file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetFile {
    pub assets: Vec<Asset>,
    pub engineers: Vec<Engineer>,
    pub depots: Vec<Depot>,
    pub parts: Vec<Part>,
    /// Service contracts by customer; customers without one get the standard tiers.
    #[serde(default)]
    pub contracts: Vec<Contract>,
    /// Whom notifications reach at each site (its service supervisor).
    #[serde(default)]
    pub sites: Vec<SiteContacts>,
    /// Each customer's contact for repair news.
    #[serde(default)]
    pub customers: Vec<CustomerContact>,
}

/// Someone notifications reach: by e-mail when an address is given, in
/// their language, and not in their quiet hours (local time, UTC + offset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteContacts {
    pub site: SiteId,
    pub supervisor: Contact,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerContact {
    pub customer: String,
    pub contact: Contact,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asset {
    pub id: AssetId,
    pub model: ModelId,
    pub serial: String,
    pub customer: String,
    pub site: SiteId,
    pub location: GeoPoint,
    pub installed: NaiveDate,
    pub warranty_until: NaiveDate,
    #[serde(default)]
    pub history: Vec<ServiceRecord>,
    /// Facts that void the warranty, as recorded (site visits, inspections).
    #[serde(default)]
    pub exclusions: Vec<WarrantyExclusion>,
}

/// What voids a warranty (the after-sales brief's "not covered" list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionKind {
    /// The unit's serial number does not match the record.
    SerialMismatch,
    /// Repaired or modified by an unauthorised party.
    UnauthorisedRepair,
    /// Misuse or installation against the instructions.
    Misuse,
    ForceMajeure,
    /// Damage caused by people.
    Damage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarrantyExclusion {
    pub kind: ExclusionKind,
    pub date: NaiveDate,
    pub note: String,
}

/// A past service visit recorded before upkeep took over the asset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub date: NaiveDate,
    pub fault: FaultCode,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Engineer {
    pub id: EngineerId,
    pub name: String,
    pub base: GeoPoint,
    /// Certified level per skill (1 = junior .. 3 = senior).
    pub skills: BTreeMap<SkillName, u8>,
    pub shift: Shift,
    /// Open tickets the engineer can hold at once.
    pub capacity: u32,
    /// Dates the engineer does not work (leave, training), whatever the shift.
    #[serde(default)]
    pub days_off: Vec<NaiveDate>,
    /// A member of the senior flying team: kept for emergencies, sent
    /// across regions when no local engineer can be on site in time.
    #[serde(default)]
    pub flying: bool,
    /// Last known position (from the field app); travel starts here when
    /// known, else at the home base.
    #[serde(default)]
    pub position: Option<GeoPoint>,
    /// How notifications reach the engineer besides the field app's MQTT
    /// topic (e-mail, language, quiet hours); `name` is the engineer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

impl Engineer {
    /// Where travel to a new job starts.
    pub fn start_point(&self) -> GeoPoint {
        self.position.unwrap_or(self.base)
    }

    /// The first moment at or after `at` when the engineer is at work: now
    /// if on shift, else the next shift start that is not a day off. `None`
    /// when nothing is rostered in the next 14 days.
    pub fn available_from(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let working = |t: DateTime<Utc>| self.shift.covers(t) && !self.days_off.contains(&self.shift.day_of(t));
        if working(at) {
            return Some(at);
        }
        (0..=14)
            .map(|d| (at.date_naive() + chrono::Duration::days(d)).and_time(self.shift.start).and_utc())
            .find(|&start| start > at && working(start))
    }
}

impl Engineer {
    /// The engineer's shifts that overlap `[from, to)`, clipped to it, days
    /// off left out: what a planning timeline draws.
    pub fn shifts_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        use chrono::Datelike;
        let mut out = Vec::new();
        let mut day = from.date_naive() - chrono::Duration::days(1);
        while day <= to.date_naive() {
            let start = day.and_time(self.shift.start).and_utc();
            let end = match self.shift.end {
                e if e > self.shift.start => day.and_time(e).and_utc(),
                e => (day + chrono::Duration::days(1)).and_time(e).and_utc(),
            };
            let works = self.shift.days.contains(&day.weekday()) && !self.days_off.contains(&day);
            if works && end > from && start < to {
                out.push((start.max(from), end.min(to)));
            }
            day += chrono::Duration::days(1);
        }
        out
    }
}

/// Working days and hours (UTC); `end` before `start` is a night shift.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shift {
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Shift {
    /// The same hours on all seven days (a rota).
    pub fn every_day(start: NaiveTime, end: NaiveTime) -> Shift {
        use Weekday::*;
        Shift { days: vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun], start, end }
    }

    /// The date of the shift that `at` falls in (a night shift belongs to
    /// the day it starts on).
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        let overnight = self.start > self.end && at.time() < self.end;
        if overnight {
            at.date_naive() - chrono::Duration::days(1)
        } else {
            at.date_naive()
        }
    }

    /// Whether the engineer works at `at`. A night shift belongs to the day
    /// it starts on; `start == end` is a 24-hour shift.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        use chrono::{Datelike, Duration};
        let time = at.time();
        if self.start == self.end {
            return self.days.contains(&at.weekday());
        }
        if self.start < self.end {
            return self.days.contains(&at.weekday()) && time >= self.start && time < self.end;
        }
        let started_today = time >= self.start && self.days.contains(&at.weekday());
        let started_yesterday = time < self.end && self.days.contains(&(at - Duration::days(1)).weekday());
        started_today || started_yesterday
    }
}

/// Depot classes: regional centre (A parts), city service point (B), central (C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DepotClass {
    A,
    B,
    C,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Depot {
    pub id: DepotId,
    pub name: String,
    pub class: DepotClass,
    pub location: GeoPoint,
    /// Units on hand per part when the fleet file was written.
    pub stock: BTreeMap<PartNumber, u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub number: PartNumber,
    pub description: String,
    /// ABC class: A high value/turnover, B medium, C low demand.
    pub class: DepotClass,
    pub list_price: f64,
    pub safety_stock: u32,
    pub lead_time_days: u32,
}

/// The loaded registry with lookups by id.
#[derive(Debug, Clone)]
pub struct Fleet {
    file: FleetFile,
    assets: HashMap<AssetId, usize>,
    engineers: HashMap<EngineerId, usize>,
}

impl Fleet {
    pub fn load(path: &Path) -> Result<Fleet, FleetError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|reason| FleetError::Read { path: shown.clone(), reason })?;
        let file = serde_json::from_str(&text).map_err(|reason| FleetError::Parse { path: shown.clone(), reason })?;
        Fleet::new(file).map_err(|e| match e {
            FleetError::Invalid(message) => located(&shown, &text, message),
            other => other,
        })
    }

    pub fn new(file: FleetFile) -> Result<Fleet, FleetError> {
        let assets = index(&file.assets, |a| a.id.clone(), "asset")?;
        let engineers = index(&file.engineers, |e| e.id.clone(), "engineer")?;
        index(&file.depots, |d| d.id.clone(), "depot")?;
        Ok(Fleet { file, assets, engineers })
    }

    /// Assets whose equipment model no rule file covers: they would never
    /// be watched. One message per asset, with its line in `text` when given.
    pub fn unknown_models(&self, rules: &crate::rules::RuleSet, path: &str, text: Option<&str>) -> Vec<String> {
        let unknown = self.file.assets.iter().filter(|a| rules.for_model(&a.model).is_none());
        unknown
            .map(|a| {
                let message = format!("asset {} names equipment model '{}', which no rule file covers", a.id, a.model);
                match text.and_then(|t| line_of(t, a.id.as_str(), 1)) {
                    Some(line) => format!("{path}, line {line}: {message}"),
                    None => format!("{path}: {message}"),
                }
            })
            .collect()
    }

    pub fn file(&self) -> &FleetFile {
        &self.file
    }
    pub fn assets(&self) -> &[Asset] {
        &self.file.assets
    }
    pub fn engineers(&self) -> &[Engineer] {
        &self.file.engineers
    }
    pub fn depots(&self) -> &[Depot] {
        &self.file.depots
    }
    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.assets.get(id).map(|&i| &self.file.assets[i])
    }
    /// The asset's site; `unknown` for an asset not in the registry (its
    /// data is still shown, under that site).
    pub fn site_of(&self, asset: &str) -> SiteId {
        self.asset(asset).map_or_else(|| SiteId::new("unknown"), |a| a.site.clone())
    }
    pub fn engineer(&self, id: &str) -> Option<&Engineer> {
        self.engineer_index(id).map(|i| &self.file.engineers[i])
    }
    /// The engineer's index in `engineers()`.
    pub fn engineer_index(&self, id: &str) -> Option<usize> {
        self.engineers.get(id).copied()
    }
    /// The customer's contract in force on `day`, if any.
    pub fn contract(&self, customer: &str, day: NaiveDate) -> Option<&Contract> {
        self.file.contracts.iter().find(|c| c.customer == customer && c.in_force(day))
    }
    /// The service supervisor of a site, if the fleet file names one.
    pub fn supervisor(&self, site: &SiteId) -> Option<&Contact> {
        self.file.sites.iter().find(|s| &s.site == site).map(|s| &s.supervisor)
    }
    /// A customer's contact, if the fleet file names one.
    pub fn customer_contact(&self, customer: &str) -> Option<&Contact> {
        self.file.customers.iter().find(|c| c.customer == customer).map(|c| &c.contact)
    }
    /// The catalogue entry of a part (a catalogue is tens of parts: a scan).
    pub fn part(&self, number: &PartNumber) -> Option<&Part> {
        self.file.parts.iter().find(|p| &p.number == number)
    }
}

/// An `Invalid` error of `Fleet::new` placed at the line of the id it
/// names (a duplicate: its second occurrence).
fn located(path: &str, text: &str, message: String) -> FleetError {
    let id = message.rsplit(' ').next().unwrap_or_default();
    match line_of(text, id, 2) {
        Some(line) => FleetError::At { path: path.to_owned(), line, message },
        None => FleetError::Invalid(format!("{path}: {message}")),
    }
}

/// The 1-based line of the `nth` occurrence of `"id"` in `text`.
fn line_of(text: &str, id: &str, nth: usize) -> Option<usize> {
    let quoted = format!("\"{id}\"");
    let (at, _) = text.match_indices(&quoted).nth(nth.checked_sub(1)?)?;
    Some(text[..at].matches('\n').count() + 1)
}

fn index<T, K: std::hash::Hash + Eq + std::fmt::Display>(
    items: &[T],
    key: impl Fn(&T) -> K,
    what: &str,
) -> Result<HashMap<K, usize>, FleetError> {
    let mut map = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let k = key(item);
        if map.contains_key(&k) {
            return Err(FleetError::Invalid(format!("duplicate {what} id {k}")));
        }
        map.insert(k, i);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn shift(days: &[Weekday], start: u32, end: u32) -> Shift {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        Shift { days: days.to_vec(), start: t(start), end: t(end) }
    }

    #[test]
    fn a_day_shift_covers_its_hours_on_its_days_only() {
        let s = shift(&[Weekday::Mon], 8, 16);
        let monday_noon = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        assert!(s.covers(monday_noon));
        assert!(!s.covers(monday_noon + chrono::Duration::hours(5)));
        assert!(!s.covers(monday_noon + chrono::Duration::days(1)));
    }

    #[test]
    fn equal_start_and_end_is_a_whole_day() {
        let s = shift(&[Weekday::Mon], 0, 0);
        let monday = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        assert!(s.covers(monday) && s.covers(monday + chrono::Duration::hours(23)));
        assert!(!s.covers(monday + chrono::Duration::hours(24)));
    }

    #[test]
    fn a_night_shift_runs_past_midnight_into_the_next_day() {
        let s = shift(&[Weekday::Mon], 22, 6);
        let tuesday_3am = Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap();
        let monday_3am = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
        assert!(s.covers(tuesday_3am));
        assert!(!s.covers(monday_3am));
    }
}
