#!/usr/bin/env bash
# Load harness: the backend direct, a bare httputil.ReverseProxy, and
# Portico's HTTP proxy integration (no features on), each driven by wrk on
# loopback. Bounded: DURATION seconds per run (default 10), loopback only.
#
#   bash bench/run.sh            # prints a table and the Portico / bare ratios
#   DURATION=5 CONNS=64 bash bench/run.sh
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

run() { # name url
	local name=$1 url=$2
	# warm up connections, then measure
	wrk -t"$THREADS" -c"$CONNS" -d2s "$url" >/dev/null
	wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$OUT/$name.txt"
	local rps p50 p99
	rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/$name.txt")
	p50=$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")
	p99=$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")
	printf '%-22s %12s %10s %10s\n' "$name" "$rps" "$p50" "$p99"
	echo "$name $rps $p50 $p99" >>"$OUT/summary.txt"
}

: >"$OUT/summary.txt"
printf '%-22s %12s %10s %10s\n' "target" "requests/s" "p50" "p99"
run backend-direct "http://127.0.0.1:9101/pets/7"
run bare-reverseproxy "http://127.0.0.1:9102/pets/7"
run portico-httpproxy "http://127.0.0.1:9103/prod/pets/7"

# Ratios: requests/s and p99 of Portico against the bare proxy.
awk '
function ms(v) { if (v ~ /us$/) return substr(v,1,length(v)-2)/1000; if (v ~ /ms$/) return substr(v,1,length(v)-2)+0; if (v ~ /s$/) return substr(v,1,length(v)-1)*1000; return v }
$1=="bare-reverseproxy" { brps=$2; bp99=ms($4) }
$1=="portico-httpproxy" { prps=$2; pp99=ms($4) }
END { printf "portico/bare requests/s: %.3f   p99 ratio: %.3f\n", prps/brps, pp99/bp99 }
' "$OUT/summary.txt"
