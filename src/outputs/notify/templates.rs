//! Message texts per language, from `templates/{language}.toml` (embedded):
//! one subject and body per notice kind, with `{name}` placeholders filled
//! from a notification's facts. Every language has every kind (a unit
//! test holds them to it), so a message is never half translated.

use crate::model::{Language, Severity};
use crate::tickets::Notice;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Deserialize)]
struct Text {
    subject: String,
    body: String,
}

#[derive(Debug, Deserialize)]
struct Catalogue {
    severity: HashMap<String, String>,
    #[serde(flatten)]
    notices: HashMap<String, Text>,
}

fn source(language: Language) -> &'static str {
    match language {
        Language::En => include_str!("templates/en.toml"),
        Language::ZhCn => include_str!("templates/zh-CN.toml"),
    }
}

static CATALOGUES: LazyLock<HashMap<Language, Catalogue>> = LazyLock::new(|| {
    Language::ALL.into_iter().map(|l| (l, toml::from_str(source(l)).expect("embedded templates parse"))).collect()
});

/// What a message says, filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

/// The facts a message may name (`{name}` in a template).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub recipient: String,
    pub ticket: String,
    pub asset: String,
    pub model: String,
    pub site: String,
    pub customer: String,
    pub fault: String,
    pub severity: Option<Severity>,
    pub engineer: String,
    pub on_site_due: String,
    /// The visit window agreed, in the reader's time.
    pub appointment: String,
    pub detail: String,
    pub link: String,
}

impl Facts {
    fn value(&self, name: &str, catalogue: &Catalogue) -> Option<String> {
        let severity = || {
            let s = self.severity.map_or("", |s| s.as_str());
            catalogue.severity.get(s).cloned().unwrap_or_else(|| s.to_owned())
        };
        Some(match name {
            "recipient" => self.recipient.clone(),
            "ticket" => self.ticket.clone(),
            "asset" => self.asset.clone(),
            "model" => self.model.clone(),
            "site" => self.site.clone(),
            "customer" => self.customer.clone(),
            "fault" => self.fault.clone(),
            "severity" => severity(),
            "engineer" => self.engineer.clone(),
            "on_site_due" => self.on_site_due.clone(),
            "appointment" => self.appointment.clone(),
            "detail" => self.detail.clone(),
            "link" => self.link.clone(),
            _ => return None,
        })
    }
}

/// The message for `notice` in `language`, filled from `facts`.
pub fn render(language: Language, notice: Notice, facts: &Facts) -> Message {
    let catalogue = &CATALOGUES[&language];
    let text = &catalogue.notices[notice.as_str()];
    let fill = |t: &str| fill(t, |name| facts.value(name, catalogue));
    Message { subject: fill(&text.subject), body: fill(text.body.trim_end()) }
}

/// `template` with every `{name}` replaced by `value(name)`; an unknown
/// name is left as written (the unit test rejects any in the catalogues).
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| Some((close, value(&after[..close])?))) {
            Some((close, v)) => {
                out.push_str(&v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            recipient: "Ana".into(),
            ticket: "TK-1".into(),
            asset: "PMP-0001".into(),
            model: "pump".into(),
            site: "BER-01".into(),
            customer: "Customer 4".into(),
            fault: "bearing wear".into(),
            severity: Some(Severity::Emergency),
            engineer: "Engineer 7".into(),
            on_site_due: "2026-12-08 09:00 UTC+01:00".into(),
            appointment: "2026-12-08 08:00 UTC+01:00 to 10:00".into(),
            detail: "vibration above the alarm level".into(),
            link: "http://x/field".into(),
        }
    }

    #[test]
    fn every_language_has_every_notice_and_every_placeholder_is_known() {
        for language in Language::ALL {
            for notice in Notice::ALL {
                let m = render(language, notice, &facts());
                for text in [&m.subject, &m.body] {
                    assert!(!text.contains('{') && !text.contains('}'), "{language} {notice}: {text}");
                    assert!(text.contains("TK-1") || text.contains("PMP-0001"), "{language} {notice}: {text}");
                }
            }
            let names: Vec<&String> = CATALOGUES[&language].notices.keys().collect();
            assert_eq!(names.len(), Notice::ALL.len(), "{language}: {names:?}");
        }
    }

    #[test]
    fn severity_is_named_in_the_readers_language() {
        let zh = render(Language::ZhCn, Notice::Assigned, &facts());
        assert!(zh.subject.starts_with("【紧急】"), "{}", zh.subject);
        let en = render(Language::En, Notice::Assigned, &facts());
        assert!(en.subject.starts_with("[emergency] TK-1"), "{}", en.subject);
        assert!(en.body.contains("Hello Ana,") && en.body.ends_with("http://x/field"), "{}", en.body);
    }

    #[test]
    fn an_unknown_or_unclosed_brace_is_left_as_written() {
        assert_eq!(fill("a {x} {y", |n| (n == "x").then(|| "1".into())), "a 1 {y");
        assert_eq!(fill("{z}", |_| None), "{z}");
    }
}
