//! Rule text shared by the detection tests.

/// A pump model with a threshold, a stale, a flatline and a forecast rule.
pub const RULES: &str = r#"
model = "pump"
asset_prefix = "P"

[[rule]]
id = "hot"
fault = "OVERHEAT"
severity = "major"
description = "too hot"
for = "10m"
clear_after = "30m"
skills = { mechanical = 1 }
when = { metric = "temp", detector = "threshold", above = 80.0, held = "5m" }

[[rule]]
id = "dropout"
fault = "SENSOR_DROPOUT"
kind = "sensor_check"
severity = "general"
description = "flow silent"
when = { metric = "flow", detector = "stale", after = "1h" }

[[rule]]
id = "stuck"
fault = "SENSOR_STUCK"
kind = "sensor_check"
severity = "general"
description = "temp repeats itself"
when = { metric = "temp", detector = "flatline", held = "2h" }

[[rule]]
id = "trend"
fault = "WEAR"
severity = "general"
description = "vibration heading to its limit"
skills = { mechanical = 1 }
when = { metric = "vib", detector = "forecast", above = 10.0, horizon = "24h", fit = "6h" }
"#;
