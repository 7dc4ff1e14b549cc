#!/usr/bin/env bash
# Overload through the load harness: the release engine (`upkeep run`, SQLite)
# against Mosquitto, flooded by `device-sim --load` as fast as it publishes
# for FLOOD seconds, then left to drain. Every 5 s it prints the engine's RSS,
# acks per second, messages held, whether intake is paused and the MQTT
# connection errors; then how long the backlog took to drain, and how long
# SIGTERM took to stop the engine in the middle of a second flood.
#
# Usage: benches/overload.sh [ASSETS [FLOOD_SECONDS]]   (default 1000 60)
# Needs: cargo build --release; Mosquitto on 127.0.0.1:18883 as .ci/run
# starts it (max_inflight_messages 100, max_queued_messages 0).
set -euo pipefail
cd "$(dirname "$0")/.."
assets=${1:-1000}
flood=${2:-60}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
./target/release/upkeep fleet generate --assets "$assets" --out "$dir/fleet.json" >/dev/null
prefix="overload-$$"
api=127.0.0.1:18091

start_engine() {
  env UPKEEP__MQTT__URL=mqtt://127.0.0.1:18883 UPKEEP__MQTT__CLIENT_ID="$prefix" \
    UPKEEP__MQTT__TOPIC_FILTER="$prefix/telemetry/+" UPKEEP__FLEET__PATH="$dir/fleet.json" \
    UPKEEP__DATABASE__URL="sqlite://$dir/engine.db" UPKEEP__API__LISTEN=$api RUST_LOG=warn \
    ./target/release/upkeep run >>"$dir/engine.log" 2>&1 &
  engine=$!
  for _ in $(seq 1 50); do curl -sf "http://$api/health" >/dev/null && return; sleep 0.2; done
  echo "engine did not start" >&2; cat "$dir/engine.log" >&2; exit 1
}

metric() { grep "^$1 " <<<"$2" | cut -d' ' -f2; }

sample() {
  local m rss
  m=$(curl -s --max-time 1 "http://$api/metrics" || true)
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$engine/status")
  echo "$(metric upkeep_messages_acked_total "$m") $(metric upkeep_messages_received_total "$m") \
$(metric upkeep_held_messages "$m") $(metric upkeep_intake_paused "$m") $(metric upkeep_mqtt_errors_total "$m") $rss"
}

start_engine
./target/release/device-sim --load --fleet "$dir/fleet.json" --broker mqtt://127.0.0.1:18883 \
  --topic-prefix "$prefix/telemetry" --duration "${flood}s" >"$dir/sim.log" 2>&1 &
sim=$!
printf '%6s %10s %9s %6s %6s %7s %8s\n' t_s acked acks/s held paused errors rss_mb
t=0
prev=0
published=""
while :; do
  sleep 5
  t=$((t + 5))
  read -r acked received held paused errors rss < <(sample)
  printf '%6d %10d %9d %6s %6s %7s %8d\n' "$t" "$acked" $(((acked - prev) / 5)) "$held" "$paused" "$errors" $((rss / 1024))
  prev=$acked
  if [ -z "$published" ] && ! kill -0 "$sim" 2>/dev/null; then
    wait "$sim" || true
    published=$(sed -n 's/^done: \([0-9]*\) messages.*/\1/p' "$dir/sim.log")
    echo "flood over at ${t}s: $(grep -E '^(done|sustained):' "$dir/sim.log" | tr '\n' ' ')"
  fi
  if [ -n "$published" ] && [ "$acked" -ge "$published" ]; then
    echo "drained at ${t}s: $acked acked of $published published"
    break
  fi
  [ "$t" -ge $((flood * 6 + 60)) ] && { echo "not drained after ${t}s"; break; }
done
echo "connection errors logged: $(grep -c "MQTT connection error" "$dir/engine.log" || true)"

# SIGTERM in the middle of a flood.
./target/release/device-sim --load --fleet "$dir/fleet.json" --broker mqtt://127.0.0.1:18883 \
  --topic-prefix "$prefix/telemetry" --duration 30s >/dev/null 2>&1 &
sleep 10
t0=$(date +%s.%N)
kill -TERM "$engine"
wait "$engine" || true
echo "SIGTERM under load: engine stopped in $(echo "$(date +%s.%N) - $t0" | bc) s"
