//! Who hears about a notice, over which channel, in which language and
//! when: the notification rule, in one place. Engineers hear about work
//! put on them (field app topic and e-mail); the site's supervisor about
//! what needs a dispatcher (declines, escalations, risks, follow-ups,
//! customers' calls); the customer about their repair (a quote waiting,
//! the engineer on the way, the repair done); every webhook subscription
//! about the kinds it chose. People's non-urgent messages wait out their
//! quiet hours, unless they are at work (an engineer on shift).

use super::config::NotifyConfig;
use super::outbox::{Channel, Notification, Pending, Status};
use super::templates::{self, Facts};
use crate::fleet::{Contact, Fleet};
use crate::model::{EpochMs, Language, Severity};
use crate::rules::RuleSet;
use crate::tickets::{EventRecord, Notice, Ticket};
use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta, Utc};

/// Whose concern a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// The engineer the event concerns (assigned), else the ticket's holder.
    Engineer,
    Supervisor,
    Customer,
}

fn audience(notice: Notice) -> Audience {
    match notice {
        Notice::Assigned => Audience::Engineer,
        Notice::Declined
        | Notice::Escalated
        | Notice::AtRisk
        | Notice::FollowUpDue
        | Notice::CustomerReported
        | Notice::ComplaintReceived => Audience::Supervisor,
        Notice::QuoteWaiting | Notice::OnTheWay | Notice::Resolved | Notice::AppointmentBooked => Audience::Customer,
    }
}

/// What the planner decides from.
pub struct Planner<'a> {
    pub config: &'a NotifyConfig,
    pub fleet: &'a Fleet,
    pub rules: &'a RuleSet,
}

/// One person to reach: who, their contact, and the link for them.
struct Person<'a> {
    id: String,
    contact: Option<&'a Contact>,
    name: String,
    link: String,
    /// At work now (an engineer on shift): no quiet hours apply.
    on_duty: bool,
}

impl Planner<'_> {
    /// Every delivery of `notice`, made at `now` (wall clock).
    pub fn plan(&self, notice: &Pending, ticket: &Ticket, event: &EventRecord, now: EpochMs) -> Vec<Notification> {
        let mut out = Vec::new();
        if let Some(person) = self.person(audience(notice.notice), ticket, event, now) {
            let urgent = ticket.severity == Severity::Emergency || notice.notice.urgent_always() || person.on_duty;
            let language = person.contact.map_or(Language::En, |c| c.language);
            let offset = person.contact.map_or(0, |c| c.utc_offset_minutes);
            let next_at = if urgent { now } else { self.after_quiet_hours(now, offset) };
            let facts = self.facts(ticket, event, &person, language, offset);
            let message = templates::render(language, notice.notice, &facts);
            let mut add = |channel, address: String| {
                out.push(self.delivery(
                    notice,
                    ticket,
                    event,
                    (channel, &person.id, address),
                    language,
                    &message,
                    next_at,
                    now,
                ));
            };
            let engineer = audience(notice.notice) == Audience::Engineer;
            if engineer && self.config.engineer_mqtt {
                add(Channel::Mqtt, format!("{}/{}", self.config.engineer_topic, person.id));
            }
            if let (Some(email), false) =
                (person.contact.and_then(|c| c.email.clone()), self.config.smtp.host.is_empty())
            {
                add(Channel::Email, email);
            }
        }
        for hook in self.config.webhooks.iter().filter(|w| w.wants(notice.notice)) {
            let person = Person {
                id: hook.name.clone(),
                contact: None,
                name: hook.name.clone(),
                link: self.console_link(ticket),
                on_duty: false,
            };
            let facts = self.facts(ticket, event, &person, hook.language, 0);
            let message = templates::render(hook.language, notice.notice, &facts);
            let route = (Channel::Webhook, &person.id, hook.url.clone());
            out.push(self.delivery(notice, ticket, event, route, hook.language, &message, now, now));
        }
        out
    }

    fn person<'f>(&'f self, audience: Audience, t: &Ticket, e: &EventRecord, now: EpochMs) -> Option<Person<'f>> {
        let asset = self.fleet.asset(t.asset_id.as_str());
        match audience {
            Audience::Engineer => {
                let id = e.assigned_engineer().or(t.assignment.engineer_id.as_ref())?;
                let engineer = self.fleet.engineer(id.as_str())?;
                let link = format!("{}/field", self.config.public_url);
                let at = DateTime::<Utc>::from_timestamp_millis(now)?;
                let on_duty = engineer.available_from(at) == Some(at);
                let (contact, name) = (engineer.contact.as_ref(), engineer.name.clone());
                Some(Person { id: id.to_string(), contact, name, link, on_duty })
            }
            Audience::Supervisor => {
                let site = &asset?.site;
                let contact = self.fleet.supervisor(site)?;
                let link = self.console_link(t);
                Some(Person {
                    id: format!("supervisor:{site}"),
                    contact: Some(contact),
                    name: contact.name.clone(),
                    link,
                    on_duty: false,
                })
            }
            Audience::Customer => {
                let customer = &asset?.customer;
                let contact = self.fleet.customer_contact(customer)?;
                let code = t.after_sales.progress_code.as_deref()?;
                let link = format!("{}/track?code={code}", self.config.public_url);
                Some(Person {
                    id: format!("customer:{customer}"),
                    contact: Some(contact),
                    name: contact.name.clone(),
                    link,
                    on_duty: false,
                })
            }
        }
    }

    fn console_link(&self, t: &Ticket) -> String {
        format!("{}/?ticket={}", self.config.public_url, t.id)
    }

    fn facts(&self, t: &Ticket, e: &EventRecord, p: &Person, language: Language, offset: i32) -> Facts {
        let asset = self.fleet.asset(t.asset_id.as_str());
        let rule = self.rules.rule(&t.model, &t.rule_id);
        let fault = rule.and_then(|r| r.translations.get(language.as_str())).unwrap_or(&t.description);
        let holder = e.engineer_id.as_ref().or(t.assignment.engineer_id.as_ref());
        let engineer = holder.and_then(|id| self.fleet.engineer(id.as_str())).map(|x| x.name.clone());
        Facts {
            recipient: p.name.clone(),
            ticket: t.id.to_string(),
            asset: t.asset_id.to_string(),
            model: t.model.to_string(),
            site: asset.map(|a| a.site.to_string()).unwrap_or_default(),
            customer: asset.map(|a| a.customer.clone()).unwrap_or_default(),
            fault: fault.clone(),
            severity: Some(t.severity),
            engineer: engineer.unwrap_or_else(|| "-".into()),
            on_site_due: local_time(t.due.on_site_due, offset),
            appointment: window(t.assignment.appointment_from.zip(t.assignment.appointment_to), offset),
            detail: e.detail.clone(),
            link: p.link.clone(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn delivery(
        &self,
        n: &Pending,
        t: &Ticket,
        e: &EventRecord,
        (channel, recipient, address): (Channel, &String, String),
        language: Language,
        message: &templates::Message,
        next_at: EpochMs,
        now: EpochMs,
    ) -> Notification {
        let id = format!("{}:{}:{}:{}", n.ticket, n.seq, channel, recipient);
        let payload = serde_json::json!({
            "id": id,
            "notice": n.notice,
            "at": n.at,
            "ticket": {
                "id": t.id, "asset": t.asset_id, "model": t.model, "fault": t.fault_code, "severity": t.severity,
                "state": t.state, "engineer": t.assignment.engineer_id, "on_site_due": t.due.on_site_due,
            },
            "event": { "seq": e.seq, "kind": e.kind, "actor": e.actor, "detail": e.detail, "engineer": e.engineer_id },
            "language": language,
            "subject": message.subject,
            "body": message.body,
        });
        Notification {
            id,
            ticket_id: n.ticket.clone(),
            seq: n.seq,
            notice: n.notice,
            channel,
            recipient: recipient.clone(),
            address,
            language: language.to_string(),
            subject: message.subject.clone(),
            body: message.body.clone(),
            payload: payload.to_string(),
            status: Status::Pending,
            attempts: 0,
            next_at,
            created_at: now,
            sent_at: None,
            last_error: String::new(),
        }
    }

    /// `now`, or the end of the quiet hours `now` falls in, in a person's
    /// local time (UTC + `offset` minutes).
    fn after_quiet_hours(&self, now: EpochMs, offset: i32) -> EpochMs {
        quiet_until(now, offset, self.config.quiet_start, self.config.quiet_end).unwrap_or(now)
    }
}

/// When the quiet hours `[start, end)` that `now` falls in end, if it does.
fn quiet_until(now: EpochMs, offset: i32, start: NaiveTime, end: NaiveTime) -> Option<EpochMs> {
    let zone = FixedOffset::east_opt(offset * 60)?;
    let local = DateTime::<Utc>::from_timestamp_millis(now)?.with_timezone(&zone);
    let time = local.time();
    let quiet = match start.cmp(&end) {
        std::cmp::Ordering::Equal => false,
        std::cmp::Ordering::Less => time >= start && time < end,
        std::cmp::Ordering::Greater => time >= start || time < end,
    };
    if !quiet {
        return None;
    }
    let day = if time >= end { local.date_naive() + TimeDelta::days(1) } else { local.date_naive() };
    Some(day.and_time(end).and_local_timezone(zone).single()?.timestamp_millis())
}

/// A visit window as its reader's clock shows it: `2026-12-08 09:00 UTC+01:00 to 11:00`.
fn window(w: Option<(EpochMs, EpochMs)>, offset: i32) -> String {
    let Some((from, to)) = w else { return "-".into() };
    let end = local_time(to, offset);
    let (from_day, end_day) = (local_time(from, offset), end.clone());
    let to = if from_day.get(..10) == end_day.get(..10) { end.get(11..16).unwrap_or_default().to_owned() } else { end };
    format!("{from_day} to {to}")
}

/// A deadline as its reader's clock shows it: `2026-12-08 09:00 UTC+01:00`.
fn local_time(at: EpochMs, offset: i32) -> String {
    let zone = FixedOffset::east_opt(offset * 60).unwrap_or(FixedOffset::east_opt(0).expect("UTC"));
    DateTime::<Utc>::from_timestamp_millis(at)
        .map_or_else(String::new, |t| format!("{} UTC{}", t.with_timezone(&zone).format("%Y-%m-%d %H:%M"), zone))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ms(h: u32, m: u32) -> EpochMs {
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap().timestamp_millis()
    }

    #[test]
    fn quiet_hours_end_at_the_next_local_morning() {
        let (start, end) = (NaiveTime::from_hms_opt(21, 0, 0).unwrap(), NaiveTime::from_hms_opt(7, 0, 0).unwrap());
        // 22:30 UTC is 06:30 at UTC+8: quiet until 07:00 there, 23:00 UTC.
        assert_eq!(quiet_until(ms(22, 30), 480, start, end), Some(ms(23, 0)));
        // 22:30 UTC at UTC+1 is 23:30: quiet until 07:00 the next day, 06:00 UTC.
        assert_eq!(quiet_until(ms(22, 30), 60, start, end), Some(ms(6, 0) + 86_400_000));
        // Midday is not quiet; equal bounds mean no quiet hours.
        assert_eq!(quiet_until(ms(12, 0), 60, start, end), None);
        assert_eq!(quiet_until(ms(22, 30), 60, start, start), None);
    }

    fn event(kind: crate::tickets::EventKind, engineer: Option<&str>) -> EventRecord {
        EventRecord {
            seq: 3,
            at: ms(12, 0),
            kind,
            from_state: None,
            to_state: None,
            actor: "dispatch".into(),
            detail: "nearest qualified".into(),
            engineer_id: engineer.map(crate::model::EngineerId::new),
        }
    }

    /// Every channel on; quiet from 21:00 to 07:00 local time.
    fn config() -> NotifyConfig {
        let mut c = NotifyConfig::default();
        c.smtp.host = "smtp.example.com".into();
        let hook = |name: &str, events| crate::outputs::notify::config::WebhookConfig {
            name: name.into(),
            url: format!("https://desk.example.com/{name}"),
            secret: "0123456789abcdef".into(),
            events,
            language: Language::En,
        };
        c.webhooks = vec![hook("all", vec![]), hook("escalations", vec![Notice::Escalated])];
        c
    }

    #[test]
    fn an_assignment_reaches_the_engineer_by_app_and_mail_in_their_language_after_their_quiet_hours() {
        let rules = crate::rules::shipped();
        let fleet =
            Fleet::new(crate::fleet::generate(&rules, crate::fleet::FleetSpec { assets: 12, seed: 1 })).unwrap();
        let asset = &fleet.assets()[0];
        let rule = &rules.for_model(&asset.model).unwrap().rules[0];
        let mut t = crate::tickets::fixtures::ticket(
            "TK-1",
            asset.id.as_str(),
            asset.model.as_str(),
            rule.fault.as_str(),
            ms(12, 0),
        );
        t.rule_id = rule.id.clone();
        // ENG-002 reads Chinese at UTC+8: 22:30 UTC is 06:30 there, quiet until 07:00 (23:00 UTC).
        let engineer = fleet.engineers()[1].clone();
        assert_eq!(engineer.contact.as_ref().unwrap().language, Language::ZhCn);
        let notice = Pending { ticket: t.id.clone(), seq: 3, notice: Notice::Assigned, at: ms(22, 30) };
        let c = config();
        let planner = Planner { config: &c, fleet: &fleet, rules: &rules };
        let e = event(crate::tickets::EventKind::Assigned, Some(engineer.id.as_str()));
        let plan = planner.plan(&notice, &t, &e, ms(22, 30));
        let routes: Vec<(Channel, &str, &str)> =
            plan.iter().map(|n| (n.channel, n.recipient.as_str(), n.language.as_str())).collect();
        assert_eq!(
            routes,
            [
                (Channel::Mqtt, engineer.id.as_str(), "zh-CN"),
                (Channel::Email, engineer.id.as_str(), "zh-CN"),
                (Channel::Webhook, "all", "en"),
            ],
            "the escalations-only hook is left out"
        );
        assert_eq!(plan[0].address, format!("upkeep/notify/engineer/{}", engineer.id));
        assert!(plan[0].subject.contains("已派给您"), "{}", plan[0].subject);
        assert_eq!((plan[0].next_at, plan[1].next_at), (ms(23, 0), ms(23, 0)), "after the quiet hours");
        assert_eq!(plan[2].next_at, ms(22, 30), "machines have no quiet hours");
        assert!(
            plan.iter().all(|n| n.id.starts_with("TK-1:3:")),
            "one idempotency key per event, channel and recipient"
        );

        // An emergency goes at once.
        t.severity = Severity::Emergency;
        assert!(planner.plan(&notice, &t, &e, ms(22, 30)).iter().all(|n| n.next_at == ms(22, 30)));

        // An engineer on shift gets the assignment at once, whatever the hour:
        // ENG-003 works the night shift, 22:00 to 06:00 UTC.
        t.severity = Severity::Major;
        let night = fleet.engineers()[2].clone();
        assert_eq!(night.shift.start, chrono::NaiveTime::from_hms_opt(22, 0, 0).unwrap());
        let e = event(crate::tickets::EventKind::Assigned, Some(night.id.as_str()));
        let plan = planner.plan(&notice, &t, &e, ms(22, 30));
        assert!(
            plan.iter().all(|n| n.next_at == ms(22, 30)),
            "{:?}",
            plan.iter().map(|n| n.next_at).collect::<Vec<_>>()
        );
    }

    #[test]
    fn customers_hear_of_their_repair_through_their_progress_link_and_supervisors_of_what_needs_them() {
        let rules = crate::rules::shipped();
        let fleet =
            Fleet::new(crate::fleet::generate(&rules, crate::fleet::FleetSpec { assets: 12, seed: 1 })).unwrap();
        let asset = &fleet.assets()[0];
        let mut t = crate::tickets::fixtures::ticket("TK-2", asset.id.as_str(), asset.model.as_str(), "X", ms(12, 0));
        t.after_sales.progress_code = Some("ABCD2345EFGH6789".into());
        let c = config();
        let planner = Planner { config: &c, fleet: &fleet, rules: &rules };
        let notice = |n| Pending { ticket: t.id.clone(), seq: 5, notice: n, at: ms(12, 0) };
        let on_the_way =
            planner.plan(&notice(Notice::OnTheWay), &t, &event(crate::tickets::EventKind::Transition, None), ms(12, 0));
        let mail = on_the_way.iter().find(|n| n.channel == Channel::Email).unwrap();
        assert_eq!(mail.recipient, format!("customer:{}", asset.customer));
        assert!(mail.body.contains("/track?code=ABCD2345EFGH6789"), "{}", mail.body);
        let escalated =
            planner.plan(&notice(Notice::Escalated), &t, &event(crate::tickets::EventKind::Escalated, None), ms(12, 0));
        let recipients: Vec<&str> = escalated.iter().map(|n| n.recipient.as_str()).collect();
        assert_eq!(recipients, [format!("supervisor:{}", asset.site).as_str(), "all", "escalations"]);
    }

    #[test]
    fn deadlines_read_in_the_readers_zone() {
        assert_eq!(local_time(ms(22, 30), 480), "2026-12-08 06:30 UTC+08:00");
        assert_eq!(local_time(ms(22, 30), 0), "2026-12-07 22:30 UTC+00:00");
        assert_eq!(window(Some((ms(8, 0), ms(10, 0))), 60), "2026-12-07 09:00 UTC+01:00 to 11:00");
        assert_eq!(
            window(Some((ms(14, 0), ms(18, 0))), 480),
            "2026-12-07 22:00 UTC+08:00 to 2026-12-08 02:00 UTC+08:00"
        );
    }
}
