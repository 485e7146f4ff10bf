#!/usr/bin/env bash
# Measures evalrun load against the simulator, beside k6 and a bare net/http
# client, as BENCHMARKS.md describes; prints the figures as Markdown.
#
#   bash bench/run.sh                      # every part, about 5 minutes
#   BENCH_PARTS="cpu accuracy" bash bench/run.sh
#
# Needs Go, GNU time (/usr/bin/time: apt-get install -y time) and, for the k6
# columns, k6 on PATH or in $(go env GOPATH)/bin (go install go.k6.io/k6@latest);
# without k6 those columns are left out. All load goes to simulators this
# script starts on 127.0.0.1, each a separate process whose CPU and memory are
# not counted. Results and logs stay in $BENCH_OUT (default: a new temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

parts=${BENCH_PARTS:-cpu rss accuracy freeze}
out=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/evalrun-bench.XXXXXX")}
mkdir -p "$out"
gnutime=/usr/bin/time
if ! "$gnutime" -f %U true 2>/dev/null; then
	echo "bench: GNU time is missing: apt-get install -y time" >&2
	exit 2
fi
k6=${K6:-$(command -v k6 || echo "$(go env GOPATH)/bin/k6")}
[[ -x $k6 ]] || k6=""
if [[ -n $k6 ]]; then
	"$k6" version | head -1 >"$out/k6-version.txt"
else
	echo "bench: no k6 found; the k6 columns stay empty (go install go.k6.io/k6@latest)" >&2
fi

echo "bench: building into $out" >&2
go build -o "$out/evalrun" ./cmd/evalrun
go build -o "$out/nethttp" ./bench/nethttp

sim_pid=""
stop_sim() {
	if [[ -n $sim_pid ]]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
		sim_pid=""
	fi
}
trap stop_sim EXIT

# start_sim NAME FLAGS...: serve a simulator with the admin routes on a free
# loopback port; sets sim_url.
start_sim() {
	local name=$1
	shift
	"$out/evalrun" sim --addr 127.0.0.1:0 --admin "$@" 2>"$out/sim-$name.log" &
	sim_pid=$!
	sim_url=""
	for _ in $(seq 100); do
		sim_url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out/sim-$name.log" | head -1 || true)
		[[ -n $sim_url ]] && return
		sleep 0.1
	done
	echo "bench: the simulator did not start; see $out/sim-$name.log" >&2
	exit 1
}

# timed NAME COMMAND...: run COMMAND under GNU time; user and system CPU
# seconds, peak RSS in KiB and wall seconds go to NAME.time, its output to
# NAME.out. A non-zero exit is recorded, not fatal: the tally checks counts.
timed() {
	local name=$1
	shift
	echo "bench: $name" >&2
	"$gnutime" -f '%U %S %M %e' -o "$out/$name.time" "$@" >"$out/$name.out" 2>&1 || true
}

stats() { curl -fsS "$sim_url/sim/stats" >"$out/$1"; }
reset_stats() { curl -fsS -X POST "$sim_url/sim/stats/reset"; }

suite=bench/conversation.yaml
k6script=bench/k6-conversation.js

for part in $parts; do
	case $part in
	cpu)
		# CPU per turn at 500 conversations/s of 3 turns, replies at once.
		start_sim cpu
		timed cpu-evalrun "$out/evalrun" load --rate 500 --duration 20s --no-progress \
			--base-url "$sim_url" --json "$out/cpu-evalrun.json" "$suite"
		if [[ -n $k6 ]]; then
			timed cpu-k6 "$k6" run --quiet --no-color --summary-export "$out/cpu-k6.json" \
				-e BASE_URL="$sim_url" -e RATE=500 -e DURATION=20s -e VUS=200 -e MAX_VUS=2000 "$k6script"
		fi
		timed cpu-nethttp "$out/nethttp" -base-url "$sim_url" -rate 500 -duration 20s
		stop_sim
		;;
	rss)
		# Peak RSS with ~2,800 conversations in flight: 700/s, every reply
		# (the session's too) after 1s, so a conversation lasts 4s.
		start_sim rss --latency 1s
		timed rss-evalrun "$out/evalrun" load --rate 700 --duration 15s --no-progress \
			--base-url "$sim_url" --json "$out/rss-evalrun.json" "$suite"
		if [[ -n $k6 ]]; then
			timed rss-k6 "$k6" run --quiet --no-color --summary-export "$out/rss-k6.json" \
				-e BASE_URL="$sim_url" -e RATE=700 -e DURATION=15s -e VUS=3200 -e MAX_VUS=4000 "$k6script"
		fi
		timed rss-nethttp "$out/nethttp" -base-url "$sim_url" -rate 700 -duration 15s
		stop_sim
		;;
	accuracy)
		# evalrun's service-time percentiles against the simulator's own
		# handling times of the same sends.
		start_sim accuracy --latency lognormal:200ms:0.5 --seed 1
		reset_stats
		timed accuracy-evalrun "$out/evalrun" load --rate 50 --duration 30s --no-progress \
			--base-url "$sim_url" --json "$out/accuracy-evalrun.json" "$suite"
		stats accuracy-sim.json
		stop_sim
		;;
	freeze)
		# A 2s freeze 8s into an open-model run capped at 20 in flight.
		start_sim freeze --latency 20ms
		reset_stats
		(sleep 8 && curl -fsS -X POST "$sim_url/sim/freeze?for=2s" >"$out/freeze-call.json") &
		freezer=$!
		timed freeze-evalrun "$out/evalrun" load --rate 50 --duration 20s --max-in-flight 20 --no-progress \
			--base-url "$sim_url" --json "$out/freeze-evalrun.json" "$suite"
		wait "$freezer"
		stats freeze-sim.json
		stop_sim
		;;
	*)
		echo "bench: unknown part $part; want cpu, rss, accuracy or freeze" >&2
		exit 2
		;;
	esac
done

go run ./bench/tally "$out" | tee "$out/summary.md"
