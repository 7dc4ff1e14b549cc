#!/usr/bin/env bash
# The InfluxDB sink's share of engine CPU, through the load harness: the
# release engine (`upkeep run`) against Mosquitto, fed by `device-sim --load`
# for 40 s, once without and once with the sink; prints the engine's CPU
# time (from /proc) per reading and the sink's counters.
#
# Usage: benches/sink_share.sh [RATE [extra device-sim flags]]
#   e.g. benches/sink_share.sh 1000                  # one reading per minute
#        benches/sink_share.sh 1000 --interval 1s    # one reading per second
# Needs: cargo build --release; Mosquitto on 127.0.0.1:18883 and InfluxDB 1.x
# on 127.0.0.1:18086 (both as .ci/run starts them).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1000}
shift || true
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
./target/release/upkeep fleet generate --assets 1000 --out "$dir/fleet.json" >/dev/null

measure() {
  local name=$1
  shift
  env UPKEEP__MQTT__URL=mqtt://127.0.0.1:18883 UPKEEP__MQTT__CLIENT_ID="share-$name-$$" \
    UPKEEP__MQTT__TOPIC_FILTER="share-$name-$$/telemetry/+" UPKEEP__FLEET__PATH="$dir/fleet.json" \
    UPKEEP__DATABASE__URL="sqlite://$dir/$name.db" UPKEEP__API__LISTEN=127.0.0.1:18090 RUST_LOG=warn "$@" \
    ./target/release/upkeep run >"$dir/$name.log" 2>&1 &
  local pid=$!
  sleep 3
  local t0 t1
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  ./target/release/device-sim --load --fleet "$dir/fleet.json" --broker mqtt://127.0.0.1:18883 \
    --topic-prefix "share-$name-$$/telemetry" --duration 40s --rate "$rate" "${sim_flags[@]}" >/dev/null
  sleep 5
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  local metrics readings
  metrics=$(curl -s http://127.0.0.1:18090/metrics)
  kill -INT "$pid"
  wait "$pid" || true
  readings=$(grep '^upkeep_readings_accepted_total' <<<"$metrics" | cut -d' ' -f2)
  awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v r="$readings" -v n="$name" \
    'BEGIN { printf "%-8s engine CPU %.2f s for %d readings: %.2f us per reading\n", n, t / hz, r, t / hz / r * 1e6 }'
  grep -E '^upkeep_output_points_(written|dropped|rejected)_total\{output="influx"\}' <<<"$metrics" | sed 's/^/         /'
}

sim_flags=("$@")
db="upkeep_share_$$"
curl -s -XPOST http://127.0.0.1:18086/query --data-urlencode "q=CREATE DATABASE $db" >/dev/null
measure no-sink
measure sink UPKEEP__INFLUX__URL=http://127.0.0.1:18086 UPKEEP__INFLUX__DATABASE="$db"
