// Command cache serves a "pets" API whose prod stage caches responses, on
// 127.0.0.1:8080:
//
//	go run ./examples/cache
//	curl -si http://127.0.0.1:8080/prod/pets/1?lang=en   # X-Cache: Miss
//	curl -si http://127.0.0.1:8080/prod/pets/1?lang=en   # X-Cache: Hit
//	curl -si -H 'Cache-Control: max-age=0' http://127.0.0.1:8080/prod/pets/1?lang=en   # Warning: not allowed
//	curl -si -H 'Cache-Control: max-age=0' -H 'X-Admin-Token: s3cret' http://127.0.0.1:8080/prod/pets/1?lang=en   # refreshed
//	curl -s -X POST -H 'X-Admin-Token: s3cret' http://127.0.0.1:8080/admin/flush
//
// With -redis redis://127.0.0.1:6379/0, the cache lives in Redis: run two
// instances on different -addr and each serves the other's hits.
//
// The pet function is slow (100 ms) so that hits are easy to see; the
// "lang" query parameter is part of the cache key, other parameters are not;
// the /pets/{id}/secret route is keyed by caller (its responses are never
// shared between Authorization headers), and /pets/{id}/live is not cached.
package main

import (
	"context"
	"crypto/subtle"
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
	"github.com/portico-gw/portico/cache"
	"github.com/portico-gw/portico/redisstore"
	"github.com/redis/go-redis/v9"
)

const adminToken = "s3cret"

func isAdmin(r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Admin-Token")), []byte(adminToken)) == 1
}

// getPet is the integration: slow, so that the cache shows.
func getPet(delay time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		greeting := map[string]string{"en": "Hello", "fr": "Bonjour"}[r.URL.Query().Get("lang")]
		if greeting == "" {
			greeting = "Hi"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"greeting":%q,"servedAt":%q}`, r.PathValue("id"), greeting, time.Now().UTC().Format(time.RFC3339Nano))
	}
}

// newGateway builds the gateway; store nil keeps the cache in memory.
func newGateway(store cache.Store, delay time.Duration) (*portico.Gateway, *portico.Stage, error) {
	var opts []portico.Option
	if store != nil {
		opts = append(opts, portico.WithCacheStore(store))
	}
	gw, err := portico.New(opts...)
	if err != nil {
		return nil, nil, err
	}
	api := portico.NewAPI("pets", portico.REST)
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets/{id}", Integration: getPet(delay),
		Cache: portico.RouteCache{Rule: cache.Rule{Key: cache.KeyParams{Query: []string{"lang"}}}}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets/{id}/secret", Integration: getPet(delay),
		Cache: portico.RouteCache{Rule: cache.Rule{TTL: 30 * time.Second}}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets/{id}/live", Integration: getPet(delay),
		Cache: portico.RouteCache{Disabled: true}})
	stage, err := gw.Deploy(api, portico.StageConfig{
		Name: "prod",
		Cache: portico.StageCache{
			Enabled:      true,
			TTL:          time.Minute,
			StatusHeader: "X-Cache",
			Invalidation: cache.Invalidation{Authorize: isAdmin, Unauthorized: cache.SucceedWithResponseHeader},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	return gw, stage, nil
}

// newMux serves the gateway and a small admin endpoint that flushes the
// stage's cache.
func newMux(gw *portico.Gateway, stage *portico.Stage) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", gw)
	mux.HandleFunc("POST /admin/flush", func(w http.ResponseWriter, r *http.Request) {
		if !isAdmin(r) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if err := stage.FlushCache(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s := stage.CacheStats()
		fmt.Fprintf(w, "flushed (so far: %d hits, %d misses)\n", s.Hits, s.Misses)
	})
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	redisURL := flag.String("redis", "", "keep the cache in this Redis (redis://host:port/db) instead of memory")
	flag.Parse()
	var store cache.Store
	if *redisURL != "" {
		opt, err := redis.ParseURL(*redisURL)
		if err != nil {
			log.Fatal(err)
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		if store, err = redisstore.NewCacheStore(rdb, "portico-example:"); err != nil {
			log.Fatal(err)
		}
	}
	gw, stage, err := newGateway(store, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: newMux(gw, stage), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = gw.Shutdown(shutdown)
	}()
	fmt.Printf("Portico cache example on http://%s — try twice:\n  curl -si http://%s/prod/pets/1?lang=en\n", ln.Addr(), ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
