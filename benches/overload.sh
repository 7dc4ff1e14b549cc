#!/usr/bin/env bash
# Overload through the load harness: the release engine (`upkeep run`, SQLite)
# against Mosquitto, flooded by `device-sim --load` at FACTOR times the
# engine's sustainable rate for FLOOD seconds, then left to drain.
#
# 1. Sustainable rate: with the engine stopped (SIGSTOP) one publisher fills
#    its session at the broker for 5 s; the engine is resumed and the rate
#    it acks that backlog at, once warm, is its sustainable rate S.
# 2. Flood: FACTOR x S offered for FLOOD seconds. Every 5 s: RSS, acks per
#    second, messages held, intake paused, MQTT connection errors, and the
#    backlog at the broker (published - acked).
# 3. Drain: the rate the backlog drains at, against S.
# 4. SIGTERM in the middle of a second flood: how long the engine takes.
# It fails (exit 1) when RSS passes RSS_CEILING_MB, a connection error is
# logged, acks stand still for a whole sample, the drain is slower than S/2
# or SIGTERM takes 10 s or more.
#
# On this 2-core box one publisher offers about 1.1x what the release engine
# takes with a core of its own, so the engine runs under a CPU quota
# (ENGINE_CPU, a share of one core, through a cgroup; needs root): the quota
# sets S, and the flood is FACTOR x that S. ENGINE_CPU=0 runs it unlimited.
#
# Usage: benches/overload.sh [ASSETS [FLOOD_SECONDS [FACTOR]]]   (default 1000 60 5)
# Env:   ENGINE_CPU (default 0.15), RSS_CEILING_MB (default 256)
# Needs: cargo build --release; Mosquitto on 127.0.0.1:18883 as .ci/run
# starts it (max_inflight_messages 100, max_queued_messages 0).
set -euo pipefail
cd "$(dirname "$0")/.."
assets=${1:-1000}
flood=${2:-60}
factor=${3:-5}
cpu=${ENGINE_CPU:-0.15}
ceiling=${RSS_CEILING_MB:-256}
dir=$(mktemp -d)
cgroup=""
failures=()
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  if [ -n "$cgroup" ]; then
    for p in $(cat "$cgroup/cgroup.procs" 2>/dev/null); do echo "$p" > "$(dirname "$cgroup")/cgroup.procs" 2>/dev/null || true; done
    rmdir "$cgroup" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
./target/release/upkeep fleet generate --assets "$assets" --out "$dir/fleet.json" >/dev/null
prefix="overload-$$"
api=127.0.0.1:18091
broker=mqtt://127.0.0.1:18883

# A cgroup giving its processes $cpu of one core (v2 cpu.max, else v1 CFS quota).
make_cgroup() {
  local quota
  quota=$(awk -v c="$cpu" 'BEGIN { printf "%d", c * 100000 }')
  if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    cgroup=/sys/fs/cgroup/upkeep-overload-$$
    mkdir "$cgroup" && echo "$quota 100000" > "$cgroup/cpu.max"
  else
    cgroup=/sys/fs/cgroup/cpu/upkeep-overload-$$
    mkdir "$cgroup" && echo 100000 > "$cgroup/cpu.cfs_period_us" && echo "$quota" > "$cgroup/cpu.cfs_quota_us"
  fi
}

start_engine() {
  env UPKEEP__MQTT__URL=$broker UPKEEP__MQTT__CLIENT_ID="$prefix" \
    UPKEEP__MQTT__TOPIC_FILTER="$prefix/telemetry/+" UPKEEP__FLEET__PATH="$dir/fleet.json" \
    UPKEEP__DATABASE__URL="sqlite://$dir/engine.db" UPKEEP__API__LISTEN=$api RUST_LOG=warn \
    ./target/release/upkeep run >>"$dir/engine.log" 2>&1 &
  engine=$!
  [ -n "$cgroup" ] && echo "$engine" > "$cgroup/cgroup.procs"
  for _ in $(seq 1 100); do
    [ "$(metric upkeep_mqtt_subscribed "$(curl -s --max-time 1 "http://$api/metrics" || true)")" = 1 ] && return
    sleep 0.2
  done
  echo "engine did not subscribe" >&2; cat "$dir/engine.log" >&2; exit 1
}

metric() { grep "^$1 " <<<"$2" | cut -d' ' -f2; }

# acked received held paused errors rss_kib
sample() {
  local m rss
  m=$(curl -s --max-time 1 "http://$api/metrics" || true)
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$engine/status")
  echo "$(metric upkeep_messages_acked_total "$m") $(metric upkeep_messages_received_total "$m") \
$(metric upkeep_held_messages "$m") $(metric upkeep_intake_paused "$m") $(metric upkeep_mqtt_errors_total "$m") $rss"
}

acked_now() { sample | cut -d' ' -f1; }

# publish START SECONDS RATE LOG: device-sim --load in the background ($sim),
# from event time START (each run starts after the last one's readings, or
# detection would count them late and skip their work); RATE "" = at most.
publish() {
  local rate=()
  [ -n "$3" ] && rate=(--rate "$3")
  ./target/release/device-sim --load --fleet "$dir/fleet.json" --broker $broker --start "$1" \
    --topic-prefix "$prefix/telemetry" --duration "$2s" "${rate[@]}" >"$4" 2>&1 &
  sim=$!
}

# Event time N days back (decode refuses readings over a year old).
days_ago() { date -u -d "-$1 days" +%Y-%m-%dT00:00:00Z; }

published_by() { sed -n 's/^done: \([0-9]*\) messages.*/\1/p' "$1"; }

if [ "$cpu" != 0 ]; then make_cgroup; fi
start_engine
echo "engine: ${cpu} of a core (0 = unlimited), RSS ceiling ${ceiling} MiB, $assets assets"

# 1. Sustainable rate: the rate a stopped engine's backlog is acked at.
kill -STOP "$engine"
publish "$(days_ago 300)" 5 "" "$dir/prefill.log"
wait "$sim"
prefill=$(published_by "$dir/prefill.log")
kill -CONT "$engine"
sleep 5
a0=$(acked_now)
sleep 15
a1=$(acked_now)
rate=$(((a1 - a0) / 15))
[ "$a1" -lt "$prefill" ] || { echo "the prefill ($prefill) drained before the measurement ended; raise it" >&2; exit 1; }
echo "sustainable rate: $rate msgs/s (a backlog of $prefill acked from $a0 to $a1 in 15 s)"
while [ "$(acked_now)" -lt "$prefill" ]; do sleep 1; done
base=$prefill

# 2. Flood at FACTOR x the sustainable rate.
offer=$((rate * factor))
publish "$(days_ago 280)" "$flood" "$offer" "$dir/sim.log"
echo "flood: ${factor}x = $offer msgs/s for ${flood}s"
printf '%6s %10s %9s %6s %6s %7s %8s %9s\n' t_s acked acks/s held paused errors rss_mb backlog
t=0
prev=$(acked_now)
published=""
peak=0
while :; do
  sleep 5
  t=$((t + 5))
  read -r acked received held paused errors rss < <(sample)
  per_s=$(((acked - prev) / 5))
  backlog=""
  if [ -z "$published" ]; then
    backlog="~$((base + offer * t - acked))"
  else
    backlog=$((published - acked))
  fi
  printf '%6d %10d %9d %6s %6s %7s %8d %9s\n' "$t" "$acked" "$per_s" "$held" "$paused" "$errors" $((rss / 1024)) "$backlog"
  peak=$((rss > peak ? rss : peak))
  [ "$acked" -gt "$prev" ] || failures+=("acks stood still in the 5 s before t=${t}s")
  prev=$acked
  if [ -z "$published" ] && ! kill -0 "$sim" 2>/dev/null; then
    wait "$sim" || true
    published=$((base + $(published_by "$dir/sim.log")))
    echo "flood over at ${t}s: $(grep -E '^(done|sustained):' "$dir/sim.log" | tr '\n' ' ')"
    drain_from=$acked
    drain_t=$t
  fi
  if [ -n "$published" ] && [ "$acked" -ge "$published" ]; then
    drained=$(((acked - drain_from) / (t - drain_t > 0 ? t - drain_t : 1)))
    echo "drained at ${t}s: $acked acked of $published published; after the flood at $drained msgs/s ($rate sustainable)"
    [ "$drained" -ge $((rate / 2)) ] || failures+=("drained at $drained msgs/s, under half the sustainable $rate")
    break
  fi
  [ "$t" -ge $((flood * factor * 2 + 120)) ] && { failures+=("not drained after ${t}s"); break; }
done
errors=$(grep -c "MQTT connection error" "$dir/engine.log" || true)
echo "peak RSS $((peak / 1024)) MiB; connection errors logged: $errors"
[ $((peak / 1024)) -le "$ceiling" ] || failures+=("peak RSS $((peak / 1024)) MiB over the ceiling of $ceiling")
[ "$errors" = 0 ] || failures+=("$errors connection errors")

# 4. SIGTERM in the middle of a flood.
publish "$(days_ago 60)" 30 "$offer" /dev/null
sleep 10
t0=$(date +%s.%N)
kill -TERM "$engine"
wait "$engine" || true
took=$(echo "$(date +%s.%N) - $t0" | bc)
echo "SIGTERM under load: engine stopped in $took s"
[ "$(echo "$took < 10" | bc)" = 1 ] || failures+=("SIGTERM took $took s")

if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "passed"
