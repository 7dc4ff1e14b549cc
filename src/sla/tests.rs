use super::*;
use crate::sla::ContractTier;
use chrono::{TimeZone, Utc};

const H: i64 = 3_600_000;

/// Epoch ms of a UTC wall-clock time.
fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> EpochMs {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().timestamp_millis()
}

fn business() -> Calendar {
    Calendar::from_config("business_hours", &SlaConfig::default().calendars["business_hours"]).unwrap()
}

#[test]
fn round_the_clock_counts_every_hour() {
    let at = utc(2026, 12, 4, 16, 0);
    assert_eq!(Calendar::RoundTheClock.add(at, Span::from_hours(8)), at + 8 * H);
}

#[test]
fn business_hours_skip_nights_weekends_and_holidays() {
    let c = business();
    // 08:00-17:00 at +01:00 is 07:00-16:00 UTC.
    // Friday 4 Dec, 14:00 UTC (15:00 local): 2 h left today, 6 h on Monday from 08:00 local.
    assert_eq!(c.add(utc(2026, 12, 4, 14, 0), Span::from_hours(8)), utc(2026, 12, 7, 13, 0));
    // Saturday night: the clock starts Monday at opening.
    assert_eq!(c.add(utc(2026, 12, 5, 23, 0), Span::from_hours(2)), utc(2026, 12, 7, 9, 0));
    // Before opening on a working day: counted from opening.
    assert_eq!(c.add(utc(2026, 12, 8, 3, 0), Span::from_hours(1)), utc(2026, 12, 8, 8, 0));
    // Exactly a day's hours from opening ends at closing, not the next morning.
    assert_eq!(c.add(utc(2026, 12, 8, 7, 0), Span::from_hours(9)), utc(2026, 12, 8, 16, 0));
    // Thursday 24 Dec 15:00 UTC: 1 h left, then the 25th and 26th are holidays
    // (and a weekend follows): the next hours count from Monday 28th.
    assert_eq!(c.add(utc(2026, 12, 24, 15, 0), Span::from_hours(3)), utc(2026, 12, 28, 9, 0));
    // Forty office hours are a working week.
    assert_eq!(c.add(utc(2026, 12, 7, 7, 0), Span::from_hours(45)), utc(2026, 12, 11, 16, 0));
}

#[test]
fn calendars_that_cannot_count_are_rejected() {
    let mut c = SlaConfig::default().calendars["business_hours"].clone();
    c.end = c.start;
    assert!(matches!(Calendar::from_config("x", &c), Err(SlaError::Calendar(..))));
    let mut c = SlaConfig::default().calendars["business_hours"].clone();
    c.days.clear();
    assert!(matches!(Calendar::from_config("x", &c), Err(SlaError::Calendar(..))));
    assert!("CET".parse::<UtcOffset>().is_err(), "an offset is a number of hours and minutes");
    assert_eq!("+01:00".parse::<UtcOffset>().map(|o| o.to_string()), Ok("+01:00".to_owned()));
}

fn contract(until: NaiveDate) -> Contract {
    let tier = |name: &str, r: i64, o: i64, calendar: &str| ContractTier {
        name: name.into(),
        sla: SlaTier {
            response: Span::from_mins(r),
            on_site: Span::from_hours(o),
            resolution: Span::from_hours(2 * o),
            calendar: calendar.into(),
        },
    };
    Contract {
        id: "CT-1".into(),
        customer: "Stadtwerke".into(),
        from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        until,
        tiers: BTreeMap::from([
            (Severity::Emergency, tier("platinum", 30, 4, ROUND_THE_CLOCK)),
            (Severity::General, tier("office hours", 240, 16, "business_hours")),
        ]),
    }
}

#[test]
fn a_contract_in_force_replaces_the_tiers_it_covers_and_only_those() {
    let at = utc(2026, 12, 4, 14, 0);
    let c = contract(NaiveDate::from_ymd_opt(2027, 12, 31).unwrap());
    let sla = Sla::new(&SlaConfig::default(), std::slice::from_ref(&c)).unwrap();

    let platinum = sla.deadlines(Severity::Emergency, at, Some(&c));
    assert_eq!(platinum.tier, "contract CT-1: platinum");
    assert_eq!((platinum.response_due, platinum.on_site_due), (at + H / 2, at + 4 * H));

    let office = sla.deadlines(Severity::General, at, Some(&c));
    assert_eq!(office.tier, "contract CT-1: office hours (business_hours)");
    // 2 h on Friday, 9 on Monday, 5 on Tuesday: 13:00 local.
    assert_eq!(office.on_site_due, utc(2026, 12, 8, 12, 0), "16 office hours from Friday 15:00 local");

    let standard = sla.deadlines(Severity::Major, at, Some(&c));
    assert_eq!(
        (standard.tier.as_str(), standard.on_site_due, standard.resolution_due),
        ("major", at + 24 * H, at + 48 * H)
    );

    let expired = contract(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
    let lapsed = sla.deadlines(Severity::Emergency, at, Some(&expired));
    assert_eq!((lapsed.tier.as_str(), lapsed.on_site_due), ("emergency", at + 12 * H));
}

#[test]
fn a_tier_on_an_undefined_calendar_is_refused_at_start() {
    let mut c = contract(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
    c.tiers.get_mut(&Severity::General).unwrap().sla.calendar = "night_shift".into();
    let err = Sla::new(&SlaConfig::default(), &[c]).unwrap_err();
    assert_eq!(err, SlaError::UnknownCalendar("contract CT-1".into(), "night_shift".into()));
}
