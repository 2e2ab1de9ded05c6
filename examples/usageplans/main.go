// Command usageplans serves an API whose callers are metered by usage plans:
// "free" (1 request a second, bursts of 2, 5 a day) and "pro" (100 a
// second, bursts of 200, 100,000 a month), each with an API key, on
// 127.0.0.1:8080. A key over its plan's throttle gets 429 THROTTLED with
// Retry-After and RateLimit headers; over its quota, 429 QUOTA_EXCEEDED.
// GET /admin/usage reports a plan's usage per key per day.
//
//	go run ./examples/usageplans
//	curl -si -H 'x-api-key: demoFreeKey0123456789' http://127.0.0.1:8080/prod/pets
//	curl -s 'http://127.0.0.1:8080/admin/usage?plan=free'
//
// The route requires an API key: the gateway checks the x-api-key header
// against its key store (in memory here; redisstore.NewKeyStore for many
// instances) and meters the request under the key's id.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/throttle"
)

// apiKeys are the example's keys: id → value. Real keys are made with
// auth.Keys.Create, which generates the value; importing them with fixed
// ids keeps the example's output the same on every run.
var apiKeys = map[string]string{
	"key-free-1": "demoFreeKey0123456789",
	"key-pro-1":  "demoProKey01234567890",
}

func plans() []throttle.UsagePlan {
	prod := []throttle.PlanStage{{API: "pets", Stage: "prod"}}
	return []throttle.UsagePlan{{
		ID:       "free",
		Name:     "Free",
		Throttle: &throttle.Limit{Rate: 1, Burst: 2},
		Quota:    &throttle.Quota{Limit: 5, Period: throttle.Day},
		Stages:   prod,
	}, {
		ID:       "pro",
		Name:     "Pro",
		Throttle: &throttle.Limit{Rate: 100, Burst: 200},
		Quota:    &throttle.Quota{Limit: 100000, Period: throttle.Month},
		Stages:   prod,
	}}
}

func listPets(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"pets":["Rex","Tom"],"key":%q}`+"\n", reqctx.From(r.Context()).APIKeyID)
}

// newServer returns the gateway and the handler serving it and the usage
// report; clk is the gateway's clock (nil for the real one).
func newServer(clk clock.Clock) (*portico.Gateway, http.Handler, error) {
	keys := auth.NewMemoryKeyStore()
	for id, value := range apiKeys {
		now := clock.OrReal(clk).Now()
		k := auth.APIKey{ID: id, Name: id, Hash: auth.HashKey(value), Enabled: true, CreatedAt: now, UpdatedAt: now}
		if err := keys.CreateKey(context.Background(), k); err != nil {
			return nil, nil, err
		}
	}
	gw, err := portico.New(
		portico.WithClock(clk),
		portico.WithAPIKeys(keys),
		portico.WithAccountThrottle(1000, 500),
	)
	if err != nil {
		return nil, nil, err
	}
	api := portico.NewAPI("pets", portico.HTTP)
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets", Integration: http.HandlerFunc(listPets),
		Auth: portico.RouteAuth{APIKeyRequired: true}})
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		return nil, nil, err
	}
	for _, p := range plans() {
		if err := gw.AddUsagePlan(p); err != nil {
			return nil, nil, err
		}
	}
	if err := gw.AddUsagePlanKey("free", "key-free-1"); err != nil {
		return nil, nil, err
	}
	if err := gw.AddUsagePlanKey("pro", "key-pro-1"); err != nil {
		return nil, nil, err
	}

	now := clock.OrReal(clk).Now
	mux := http.NewServeMux()
	mux.Handle("/", gw)
	// GET /admin/usage?plan=free[&key=key-free-1][&from=2026-03-01&to=2026-03-07]
	// reports the last 7 days by default.
	mux.HandleFunc("GET /admin/usage", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		to := now().UTC()
		from := to.AddDate(0, 0, -6)
		for name, t := range map[string]*time.Time{"from": &from, "to": &to} {
			if v := q.Get(name); v != "" {
				d, err := time.Parse(time.DateOnly, v)
				if err != nil {
					http.Error(w, name+": want YYYY-MM-DD", http.StatusBadRequest)
					return
				}
				*t = d
			}
		}
		u, err := gw.Usage(r.Context(), q.Get("plan"), q.Get("key"), from, to)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(u)
	})
	return gw, mux, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	gw, h, err := newServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = gw.Shutdown(shutdown)
	}()
	fmt.Printf("Portico usage plans on http://%s — try:\n  curl -si -H 'x-api-key: demoFreeKey0123456789' http://%s/prod/pets\n  curl -s 'http://%s/admin/usage?plan=free'\n", ln.Addr(), ln.Addr(), ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
