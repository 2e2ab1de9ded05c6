#!/usr/bin/env bash
# Load harness: the backend direct, a bare httputil.ReverseProxy, and
# Portico's HTTP proxy integration (no features on), each driven by wrk on
# loopback. Bounded: ROUNDS (default 3) x 3 runs of DURATION seconds
# (default 10), loopback only.
#
#   bash bench/run.sh            # prints a table and the Portico / bare ratios
#   DURATION=5 ROUNDS=5 CONNS=64 bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
THREADS="${THREADS:-2}"
OUT="bench/out"
mkdir -p "$OUT"

if ! command -v wrk >/dev/null; then
	echo "installing wrk (Debian package)"
	apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

go build -o "$OUT/backend" ./bench/backend
go build -o "$OUT/bareproxy" ./bench/bareproxy
go build -o "$OUT/gateway" ./bench/gateway

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$OUT/backend" -addr 127.0.0.1:9101 & pids+=($!)
"$OUT/bareproxy" -addr 127.0.0.1:9102 -backend http://127.0.0.1:9101 & pids+=($!)
"$OUT/gateway" -addr 127.0.0.1:9103 -backend 127.0.0.1:9101 & pids+=($!)

for port in 9101 9102 9103; do
	for _ in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
done

ROUNDS="${ROUNDS:-3}"

# run NAME URL: one measured wrk run, appended to the summary.
run() {
	local name=$1 url=$2
	wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$OUT/$name.txt"
	local rps p50 p99
	rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/$name.txt")
	p50=$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")
	p99=$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")
	echo "$name $rps $p50 $p99" >>"$OUT/summary.txt"
}

: >"$OUT/summary.txt"
# Warm every target up, then measure in interleaved rounds, so that the
# machine's drift affects all three alike; report the median of the rounds.
for url in http://127.0.0.1:9101/pets/7 http://127.0.0.1:9102/pets/7 http://127.0.0.1:9103/prod/pets/7; do
	wrk -t"$THREADS" -c"$CONNS" -d2s "$url" >/dev/null
done
for round in $(seq 1 "$ROUNDS"); do
	echo "round $round/$ROUNDS" >&2
	run backend-direct "http://127.0.0.1:9101/pets/7"
	run bare-reverseproxy "http://127.0.0.1:9102/pets/7"
	run portico-httpproxy "http://127.0.0.1:9103/prod/pets/7"
done

awk '
function ms(v) { if (v ~ /us$/) return substr(v,1,length(v)-2)/1000; if (v ~ /ms$/) return substr(v,1,length(v)-2)+0; if (v ~ /s$/) return substr(v,1,length(v)-1)*1000; return v+0 }
function median(arr, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t } return arr[int((n + 1) / 2)] }
{ k = ++n[$1]; rps[$1, k] = $2 + 0; p50[$1, k] = ms($3); p99[$1, k] = ms($4) }
END {
	printf "%-22s %12s %10s %10s   (median of %d rounds)\n", "target", "requests/s", "p50 ms", "p99 ms", n["backend-direct"]
	split("backend-direct bare-reverseproxy portico-httpproxy", names, " ")
	for (x = 1; x <= 3; x++) {
		name = names[x]
		for (k = 1; k <= n[name]; k++) { a[k] = rps[name, k]; b[k] = p50[name, k]; c[k] = p99[name, k] }
		R[name] = median(a, n[name]); P50[name] = median(b, n[name]); P99[name] = median(c, n[name])
		printf "%-22s %12.0f %10.2f %10.2f\n", name, R[name], P50[name], P99[name]
	}
	printf "portico/bare requests/s: %.3f (target >= 0.95)   p99 ratio: %.3f (target <= 1.10)\n", R["portico-httpproxy"] / R["bare-reverseproxy"], P99["portico-httpproxy"] / P99["bare-reverseproxy"]
}
' "$OUT/summary.txt"
