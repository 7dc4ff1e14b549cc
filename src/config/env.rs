//! Environment overrides: `UPKEEP__MQTT__URL=mqtt://broker:1883` sets
//! `mqtt.url`. Values are read as TOML (numbers, booleans, durations as
//! strings) and fall back to plain strings.

use super::ConfigError;

const PREFIX: &str = "UPKEEP__";

pub(super) fn apply_overrides(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (key, raw) in vars {
        let Some(path) = key.strip_prefix(PREFIX) else {
            continue;
        };
        let parts: Vec<String> = path.split("__").map(|p| p.to_ascii_lowercase()).collect();
        if parts.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid { origin: key, message: "empty path segment".into() });
        }
        set(table, &parts, parse_value(&raw)).map_err(|message| ConfigError::Invalid { origin: key, message })?;
    }
    Ok(())
}

fn parse_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut current = table;
    for part in parents {
        let entry = current.entry(part.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry.as_table_mut().ok_or_else(|| format!("'{part}' is not a section"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(vars: &[(&str, &str)]) -> toml::Table {
        let mut t = toml::Table::new();
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        apply_overrides(&mut t, vars).unwrap();
        t
    }

    #[test]
    fn nested_keys_become_sections_and_values_keep_their_types() {
        let t = apply(&[("UPKEEP__DETECT__WORKERS", "2"), ("UPKEEP__MQTT__URL", "mqtt://h:1"), ("PATH", "/bin")]);
        assert_eq!(t["detect"]["workers"].as_integer(), Some(2));
        assert_eq!(t["mqtt"]["url"].as_str(), Some("mqtt://h:1"));
        assert!(!t.contains_key("path"));
    }

    #[test]
    fn an_override_wins_over_the_file() {
        let mut t: toml::Table = "[api]\nlisten = '0.0.0.0:1'\n".parse().unwrap();
        apply_overrides(&mut t, [("UPKEEP__API__LISTEN".to_string(), "127.0.0.1:9".to_string())].into_iter()).unwrap();
        assert_eq!(t["api"]["listen"].as_str(), Some("127.0.0.1:9"));
    }
}
