//! Marks each integration suite whose server is not configured, so that a
//! local `cargo test` lists it as ignored (with the variable it needs)
//! instead of passing it without running. Under `CI=true` nothing is marked:
//! the suites run and a missing server fails them.

/// The variable that names each server, and the cfg set when it is missing.
const SERVERS: [(&str, &str); 6] = [
    ("UPKEEP_TEST_MQTT_URL", "no_mqtt"),
    ("UPKEEP_TEST_MQTTS_URL", "no_mqtts"),
    ("UPKEEP_TEST_MQTT_DEVICE_PASSWORD", "no_mqtt_acl"),
    ("UPKEEP_TEST_DATABASE_URL", "no_postgres"),
    ("UPKEEP_TEST_INFLUX_URL", "no_influx"),
    ("UPKEEP_TEST_SMTP_URL", "no_smtp"),
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CI");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    for (var, cfg) in SERVERS {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if !ci && std::env::var(var).map_or(true, |v| v.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
