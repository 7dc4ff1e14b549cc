//! Service-level agreements: a tier's response, on-site and resolution
//! times, counted on its calendar (round the clock, or business hours that
//! skip nights, weekends and holidays), from the standard tiers per
//! severity or from the customer's contract where one is in force. The
//! ticket stores the resulting deadlines; the SLA timer watches them on the
//! wall clock.

use crate::model::{EpochMs, Severity, Span};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The calendar that needs no definition: every hour counts.
pub const ROUND_THE_CLOCK: &str = "24x7";

/// A customer's service contract: its own, named SLA tier for each
/// severity it covers, in force from `from` to `until` (inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    pub id: String,
    pub customer: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub tiers: BTreeMap<Severity, ContractTier>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractTier {
    /// As the contract calls it: `platinum`, `gold`, `office hours`.
    pub name: String,
    pub sla: SlaTier,
}

impl Contract {
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.until
    }
}

/// One tier's times, counted on `calendar`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTier {
    pub response: Span,
    pub on_site: Span,
    pub resolution: Span,
    #[serde(default = "round_the_clock")]
    pub calendar: String,
}

fn round_the_clock() -> String {
    ROUND_THE_CLOCK.to_owned()
}

/// Working hours: `days` from `start` to `end` local time at `utc_offset`
/// (e.g. "+01:00"), except `holidays`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub utc_offset: UtcOffset,
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

/// A fixed offset from UTC, written `+01:00`; checked when the
/// configuration is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UtcOffset(pub FixedOffset);

crate::model::serde_as_text!(UtcOffset);

impl std::str::FromStr for UtcOffset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        s.parse().map(UtcOffset).map_err(|_| format!("'{s}' is not an offset from UTC like +01:00"))
    }
}

impl std::fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SlaError {
    #[error("calendar '{0}': {1}")]
    Calendar(String, String),
    #[error("{0} uses calendar '{1}', which is not defined under [sla.calendars]")]
    UnknownCalendar(String, String),
}

/// A calendar ready to count: round the clock, or working hours.
#[derive(Debug, Clone)]
pub enum Calendar {
    RoundTheClock,
    Hours { days: Vec<Weekday>, start: NaiveTime, end: NaiveTime, offset: FixedOffset, holidays: Vec<NaiveDate> },
}

impl Calendar {
    pub fn from_config(name: &str, c: &CalendarConfig) -> Result<Calendar, SlaError> {
        let bad = |why: &str| SlaError::Calendar(name.to_owned(), why.to_owned());
        if c.days.is_empty() {
            return Err(bad("no working days"));
        }
        if c.start >= c.end {
            return Err(bad("start must be before end (one shift within a day)"));
        }
        let offset = c.utc_offset.0;
        Ok(Calendar::Hours { days: c.days.clone(), start: c.start, end: c.end, offset, holidays: c.holidays.clone() })
    }

    /// The moment `span` of counted time after `from`.
    pub fn add(&self, from: EpochMs, span: Span) -> EpochMs {
        let Calendar::Hours { offset, .. } = self else { return from + span.as_millis() };
        let Some(mut t) = DateTime::from_timestamp_millis(from).map(|t| t.with_timezone(offset)) else {
            return from + span.as_millis();
        };
        let mut left = Duration::milliseconds(span.as_millis());
        // At most ten years of days: a calendar always has working days.
        for _ in 0..3660 {
            let day = t.date_naive();
            if let Some((open, close)) = self.hours_on(day) {
                let begin = t.max(open);
                if begin < close && left <= close - begin {
                    return (begin + left).timestamp_millis();
                }
                left -= (close - begin).max(Duration::zero());
            }
            let Some(next) = day.succ_opt().and_then(|d| self.local(d, NaiveTime::MIN)) else { break };
            t = next;
        }
        from + span.as_millis()
    }

    /// The working hours of `day`, unless it is no working day.
    fn hours_on(&self, day: NaiveDate) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
        let Calendar::Hours { days, start, end, holidays, .. } = self else { return None };
        if !days.contains(&day.weekday()) || holidays.contains(&day) {
            return None;
        }
        Some((self.local(day, *start)?, self.local(day, *end)?))
    }

    /// `time` on `day` in the calendar's zone.
    fn local(&self, day: NaiveDate, time: NaiveTime) -> Option<DateTime<FixedOffset>> {
        let Calendar::Hours { offset, .. } = self else { return None };
        day.and_time(time).and_local_timezone(*offset).single()
    }
}

/// The deadlines a ticket carries, and the tier they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlines {
    /// `major`, or `contract CT-0007: platinum`.
    pub tier: String,
    pub response_due: EpochMs,
    pub on_site_due: EpochMs,
    pub resolution_due: EpochMs,
}

/// The standard tiers (one per severity) and the named calendars
/// (`[sla]`, `[sla.calendars.NAME]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaConfig {
    pub emergency: SlaTier,
    pub major: SlaTier,
    pub general: SlaTier,
    pub calendars: BTreeMap<String, CalendarConfig>,
}

impl SlaConfig {
    /// Every calendar can count, and every standard tier names one.
    pub fn validate(&self) -> Result<(), String> {
        Sla::new(self, &[]).map(|_| ()).map_err(|e| format!("sla: {e}"))
    }

    pub fn tier(&self, severity: Severity) -> &SlaTier {
        match severity {
            Severity::Emergency => &self.emergency,
            Severity::Major => &self.major,
            Severity::General => &self.general,
        }
    }
}

/// The configured tiers with their calendars built, giving deadlines.
#[derive(Debug, Clone)]
pub struct Sla {
    config: SlaConfig,
    calendars: BTreeMap<String, Calendar>,
}

impl Sla {
    /// Checks every calendar and that every tier (standard or in one of
    /// `contracts`) names a defined one.
    pub fn new(config: &SlaConfig, contracts: &[Contract]) -> Result<Sla, SlaError> {
        let mut built = BTreeMap::from([(ROUND_THE_CLOCK.to_owned(), Calendar::RoundTheClock)]);
        for (name, c) in &config.calendars {
            built.insert(name.clone(), Calendar::from_config(name, c)?);
        }
        let standard = Severity::ALL.into_iter().map(|s| (format!("tier {s}"), config.tier(s)));
        let contracted =
            contracts.iter().flat_map(|c| c.tiers.values().map(move |t| (format!("contract {}", c.id), &t.sla)));
        for (owner, tier) in standard.chain(contracted) {
            if !built.contains_key(&tier.calendar) {
                return Err(SlaError::UnknownCalendar(owner, tier.calendar.clone()));
            }
        }
        Ok(Sla { config: config.clone(), calendars: built })
    }

    /// Deadlines for a ticket of `severity` detected at `at`, under the
    /// customer's `contract` when it is in force that day and covers the
    /// severity, else the standard tier.
    pub fn deadlines(&self, severity: Severity, at: EpochMs, contract: Option<&Contract>) -> Deadlines {
        let day = DateTime::from_timestamp_millis(at).map(|t| t.date_naive());
        let (name, tier) = contract
            .filter(|c| day.is_some_and(|d| c.in_force(d)))
            .and_then(|c| c.tiers.get(&severity).map(|t| (format!("contract {}: {}", c.id, t.name), &t.sla)))
            .unwrap_or_else(|| (severity.as_str().to_owned(), self.config.tier(severity)));
        let calendar = self.calendars.get(&tier.calendar).unwrap_or(&Calendar::RoundTheClock);
        Deadlines {
            tier: if tier.calendar == ROUND_THE_CLOCK { name } else { format!("{name} ({})", tier.calendar) },
            response_due: calendar.add(at, tier.response),
            on_site_due: calendar.add(at, tier.on_site),
            resolution_due: calendar.add(at, tier.resolution),
        }
    }
}

impl Default for SlaConfig {
    fn default() -> Self {
        let tier = |r, o, res| SlaTier {
            response: Span::from_hours(r),
            on_site: Span::from_hours(o),
            resolution: Span::from_hours(res),
            calendar: ROUND_THE_CLOCK.into(),
        };
        let business_hours = CalendarConfig {
            days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
            utc_offset: UtcOffset(FixedOffset::east_opt(3600).unwrap_or(chrono::Offset::fix(&chrono::Utc))),
            holidays: ["2026-12-25", "2026-12-26", "2027-01-01"].iter().filter_map(|d| d.parse().ok()).collect(),
        };
        SlaConfig {
            emergency: tier(1, 12, 24),
            major: tier(4, 24, 48),
            general: tier(8, 48, 120),
            calendars: BTreeMap::from([("business_hours".to_owned(), business_hours)]),
        }
    }
}

#[cfg(test)]
mod tests;
