// Command proxy puts Portico in front of a local backend served by two
// targets, with an active health check: requests alternate between the
// targets, and one that fails its checks is taken out until it recovers.
//
//	go run ./examples/proxy
//	curl -s http://127.0.0.1:8080/prod/pets/7          # answered by target a or b
//	curl -s http://127.0.0.1:8080/prod/status          # the pool's view of its targets
//	curl -s -X POST http://127.0.0.1:8080/admin/fail/a # make target a fail its health checks
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
)

// target is one instance of the backend.
type target struct {
	name    string
	healthy atomic.Bool
	addr    string
	srv     *http.Server
}

func startTarget(name string) (*target, error) {
	t := &target{name: name}
	t.healthy.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !t.healthy.Load() {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("GET /pets/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": r.PathValue("id"), "servedBy": t.name, "requestId": r.Header.Get("X-Request-Id")})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t.addr = ln.Addr().String()
	t.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

// newGateway builds the pool of targets and a gateway with one stage,
// "prod", that proxies GET /pets/{id} to the pool and shows the pool's
// state at GET /status.
func newGateway(targets []*target, interval time.Duration, opts ...integration.PoolOption) (*portico.Gateway, *integration.Pool, error) {
	urls := make([]string, len(targets))
	for i, t := range targets {
		urls[i] = "http://" + t.addr
	}
	pool, err := integration.NewPool(urls, append([]integration.PoolOption{
		integration.WithHealthCheck(integration.HealthCheck{Path: "/healthz", Interval: interval, HealthyThreshold: 1, UnhealthyThreshold: 1}),
		integration.WithOutlierDetection(integration.OutlierDetection{ConsecutiveFailures: 3, BaseEjectionTime: 10 * time.Second}),
		integration.WithRetries(integration.RetryPolicy{Attempts: 2}),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	api := portico.NewAPI("pets", portico.HTTP)
	api.Handle("GET /pets/{id}", &integration.HTTPProxy{Target: "/pets/{id}", Pool: pool, Timeouts: integration.Timeouts{Connect: time.Second}})
	api.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(pool.Status())
	})
	gw, err := portico.New()
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return gw, pool, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	a, err := startTarget("a")
	if err != nil {
		log.Fatal(err)
	}
	b, err := startTarget("b")
	if err != nil {
		log.Fatal(err)
	}
	gw, pool, err := newGateway([]*target{a, b}, 2*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	mux := http.NewServeMux()
	mux.Handle("/", gw)
	// A small admin endpoint to flip a target's health, to watch the pool react.
	mux.HandleFunc("POST /admin/{action}/{target}", func(w http.ResponseWriter, r *http.Request) {
		t := map[string]*target{"a": a, "b": b}[r.PathValue("target")]
		if t == nil {
			http.Error(w, "no such target", http.StatusNotFound)
			return
		}
		t.healthy.Store(r.PathValue("action") != "fail")
		fmt.Fprintf(w, "target %s healthy=%v\n", t.name, t.healthy.Load())
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(c)
		_ = gw.Shutdown(c)
		_ = a.srv.Shutdown(c)
		_ = b.srv.Shutdown(c)
	}()
	fmt.Printf("Portico proxy example on http://%s (targets a=%s b=%s)\n", ln.Addr(), a.addr, b.addr)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
