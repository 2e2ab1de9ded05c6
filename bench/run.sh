#!/usr/bin/env bash
# Load harness: wrk on loopback against
#   backend-direct     the backend alone,
#   bare-reverseproxy  a bare httputil.ReverseProxy in front of it,
#   bare-rp-bufpool    the same with a pool of copy buffers, as Portico has,
#   portico-httpproxy  Portico's integration.HTTPProxy alone in front of it,
#   portico-gateway    a Portico gateway with one HTTP proxy route (no
#                      other features on) in front of it,
# printing requests/s, p50 and p99 for each and the ratios Portico / bare.
#
#   bash bench/run.sh
#   DURATION=5 ROUNDS=1 CONNS=32 bash bench/run.sh
#
# Bounded: every run lasts DURATION seconds (default 10) and stops after
# MAX_REQUESTS requests (default 3,000,000) if that comes first; ROUNDS
# (default 3) interleaved rounds of the five, plus a 2 s warm-up of each,
# so about 3 minutes by default. Loopback (127.0.0.1) only.
#
# On a machine with two or more CPUs the server under test runs alone on
# CPU 1, and wrk and the proxies' backend share CPU 0, so that every
# target gets the same CPU and the proxy, not the load generator, is what
# runs out of it. Figures are medians over the rounds; "best" is the
# highest requests/s of any round. "CPU us/req" is the CPU time the server
# under test spent per request (from /proc), which other load on the
# machine disturbs far less than requests/s and latency.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-64}"
MAX_REQUESTS="${MAX_REQUESTS:-3000000}"
OUT="bench/out"
mkdir -p "$OUT"

if ! command -v wrk >/dev/null; then
	echo "installing wrk (Debian package)" >&2
	apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

go build -o "$OUT/backend" ./bench/backend
go build -o "$OUT/bareproxy" ./bench/bareproxy
go build -o "$OUT/gateway" ./bench/gateway

# Pinning: LOAD for wrk and the proxies' backend, SUT for the server under
# test.
LOAD=() SUT=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	LOAD=(taskset -c 0) SUT=(taskset -c 1)
fi

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

"${LOAD[@]}" "$OUT/backend" -addr 127.0.0.1:9101 & pids+=($!)
"${SUT[@]}" "$OUT/backend" -addr 127.0.0.1:9104 & pids+=($!)
sut_pids=($!)
"${SUT[@]}" "$OUT/bareproxy" -addr 127.0.0.1:9102 -backend http://127.0.0.1:9101 & pids+=($!)
sut_pids+=($!)
"${SUT[@]}" "$OUT/bareproxy" -addr 127.0.0.1:9106 -backend http://127.0.0.1:9101 -bufferpool & pids+=($!)
sut_pids+=($!)
"${SUT[@]}" "$OUT/gateway" -addr 127.0.0.1:9105 -backend 127.0.0.1:9101 -standalone & pids+=($!)
sut_pids+=($!)
"${SUT[@]}" "$OUT/gateway" -addr 127.0.0.1:9103 -backend 127.0.0.1:9101 & pids+=($!)
sut_pids+=($!)

for port in 9101 9104 9102 9106 9105 9103; do
	up=0
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
		sleep 0.1
	done
	[ "$up" = 1 ] || { echo "bench: nothing listening on 127.0.0.1:$port" >&2; exit 1; }
done

# In the order of sut_pids.
names=(backend-direct bare-reverseproxy bare-rp-bufpool portico-httpproxy portico-gateway)
urls=(http://127.0.0.1:9104/pets/7 http://127.0.0.1:9102/pets/7 http://127.0.0.1:9106/pets/7 http://127.0.0.1:9105/prod/pets/7 http://127.0.0.1:9103/prod/pets/7)

# cputicks PID: user+system CPU time of a process, in clock ticks.
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# The request cap (wrk runs one thread: the count is the whole run's).
cat >"$OUT/limit.lua" <<EOF
local left = $MAX_REQUESTS
response = function(status, headers, body)
	left = left - 1
	if left <= 0 then wrk.thread:stop() end
end
EOF

# run NAME URL PID: one measured wrk run, appended to the summary.
run() {
	local name=$1 url=$2 pid=$3
	local before after
	before=$(cputicks "$pid")
	timeout $((DURATION + 30)) "${LOAD[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$OUT/limit.lua" "$url" >"$OUT/$name.txt"
	after=$(cputicks "$pid")
	local rps p50 p99 reqs errs
	rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/$name.txt")
	p50=$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")
	p99=$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")
	reqs=$(awk '/requests in/ {print $1}' "$OUT/$name.txt")
	errs=$(awk '/Non-2xx|Socket errors/' "$OUT/$name.txt")
	if [ -n "$errs" ]; then
		echo "bench: $name: $errs" >&2
		echo "$name" >>"$OUT/failed.txt"
	fi
	echo "$name $rps $p50 $p99 $reqs $((after - before))" >>"$OUT/summary.txt"
}

: >"$OUT/summary.txt"
: >"$OUT/failed.txt"
for i in "${!names[@]}"; do
	"${LOAD[@]}" wrk -t1 -c"$CONNS" -d2s "${urls[$i]}" >/dev/null
done
# Interleaved rounds, so that drift on the machine touches all alike.
for round in $(seq 1 "$ROUNDS"); do
	echo "round $round/$ROUNDS" >&2
	for i in "${!names[@]}"; do
		run "${names[$i]}" "${urls[$i]}" "${sut_pids[$i]}"
	done
done

echo "wrk -t1 -c$CONNS -d${DURATION}s --latency, $ROUNDS rounds, $(nproc) CPUs$([ ${#SUT[@]} -gt 0 ] && echo ", server under test pinned to CPU 1"), $(go version | awk '{print $3}')"
awk -v hz="$HZ" '
function ms(v) { if (v ~ /us$/) return substr(v,1,length(v)-2)/1000; if (v ~ /ms$/) return substr(v,1,length(v)-2)+0; if (v ~ /s$/) return substr(v,1,length(v)-1)*1000; return v+0 }
function median(arr, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t } return arr[int((n + 1) / 2)] }
{ k = ++n[$1]; rps[$1, k] = $2 + 0; p50[$1, k] = ms($3); p99[$1, k] = ms($4); cpu[$1, k] = ($5 > 0) ? $6 / hz * 1e6 / $5 : 0 }
END {
	printf "| %-18s | %10s | %10s | %7s | %7s | %10s |\n", "target", "requests/s", "(best)", "p50 ms", "p99 ms", "CPU us/req"
	printf "| %-18s | %10s | %10s | %7s | %7s | %10s |\n", "---", "---:", "---:", "---:", "---:", "---:"
	split("backend-direct bare-reverseproxy bare-rp-bufpool portico-httpproxy portico-gateway", names, " ")
	for (x = 1; x <= 5; x++) {
		name = names[x]
		best = 0
		for (k = 1; k <= n[name]; k++) { a[k] = rps[name, k]; b[k] = p50[name, k]; c[k] = p99[name, k]; d[k] = cpu[name, k]; if (a[k] > best) best = a[k] }
		R[name] = median(a, n[name]); P50[name] = median(b, n[name]); P99[name] = median(c, n[name]); C[name] = median(d, n[name])
		printf "| %-18s | %10.0f | %10.0f | %7.2f | %7.2f | %10.1f |\n", name, R[name], best, P50[name], P99[name], C[name]
	}
	for (x = 4; x <= 5; x++) {
		name = names[x]
		printf "%s / bare-reverseproxy: requests/s %.3f (target >= 0.95), p99 %.3f (target <= 1.10), CPU/req %.3f\n", name, R[name] / R["bare-reverseproxy"], P99[name] / P99["bare-reverseproxy"], C[name] / C["bare-reverseproxy"]
		printf "%s / bare-rp-bufpool:   requests/s %.3f, p99 %.3f, CPU/req %.3f\n", name, R[name] / R["bare-rp-bufpool"], P99[name] / P99["bare-rp-bufpool"], C[name] / C["bare-rp-bufpool"]
	}
}
' "$OUT/summary.txt"
if [ -s "$OUT/failed.txt" ]; then
	echo "bench: some answers were errors, so these figures do not measure proxying: $(sort -u "$OUT/failed.txt" | tr '\n' ' ')" >&2
	exit 1
fi
