package portico

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/cache"
	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/reqctx"
)

// cacheBackend is an integration that counts its calls and says which call
// and path served a response.
type cacheBackend struct {
	calls atomic.Int64
	fn    func(w http.ResponseWriter, r *http.Request, n int64)
}

func (c *cacheBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.calls.Add(1)
	if c.fn != nil {
		c.fn(w, r, n)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "call %d %s?%s", n, r.URL.Path, r.URL.RawQuery)
}

// cachedGateway deploys api on stage "prod" with the stage cache on (plus
// the given settings) and a fake clock.
func cachedGateway(t *testing.T, api *API, sc StageCache, opts ...Option) (*Gateway, *Stage, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(t0)
	gw := newGateway(t, append([]Option{WithClock(clk)}, opts...)...)
	sc.Enabled = true
	if sc.StatusHeader == "" {
		sc.StatusHeader = "X-Cache"
	}
	st := mustDeploy(t, gw, api, StageConfig{Name: "prod", Cache: sc})
	return gw, st, clk
}

func xcache(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if got := rec.Header().Get("X-Cache"); got != want {
		t.Fatalf("X-Cache = %q, want %q (%d %q)", got, want, rec.Code, rec.Body)
	}
}

func TestCacheHitMissAndTTL(t *testing.T) {
	be := &cacheBackend{}
	api := NewAPI("pets", REST)
	api.Handle("GET /pets/{id}", be)
	gw, st, clk := cachedGateway(t, api, StageCache{})

	miss := serve(gw, "GET", "/prod/pets/1", nil)
	xcache(t, miss, "Miss")
	hit := serve(gw, "GET", "/prod/pets/1", nil)
	xcache(t, hit, "Hit")
	if hit.Code != 200 || hit.Body.String() != miss.Body.String() || hit.Header().Get("Content-Type") != "text/plain" {
		t.Fatalf("hit = %d %q %v, want the cached response", hit.Code, hit.Body, hit.Header())
	}
	// The request id is per request: set by the gateway, never replayed.
	if a, b := miss.Header().Get("X-Amzn-Requestid"), hit.Header().Get("X-Amzn-Requestid"); a == "" || a == b {
		t.Fatalf("request ids %q and %q: want two different ones", a, b)
	}
	xcache(t, serve(gw, "GET", "/prod/pets/2", nil), "Miss") // the whole path is in the key
	clk.Advance(300*time.Second - time.Millisecond)
	xcache(t, serve(gw, "GET", "/prod/pets/1", nil), "Hit")
	clk.Advance(time.Millisecond)
	xcache(t, serve(gw, "GET", "/prod/pets/1", nil), "Miss")
	if got := be.calls.Load(); got != 3 {
		t.Fatalf("integration calls = %d, want 3", got)
	}
	if s := st.CacheStats(); s.Hits != 2 || s.Misses != 3 || s.Stored != 3 {
		t.Fatalf("stats = %+v, want 2 hits, 3 misses, 3 stored", s)
	}
}

func TestCacheRouteOverrides(t *testing.T) {
	tests := []struct {
		name      string
		stage     StageCache
		route     RouteCache
		method    string
		advance   time.Duration // between the two requests
		wantCalls int64
	}{
		{"GET cached by default", StageCache{}, RouteCache{}, "GET", 0, 1},
		{"route disabled", StageCache{}, RouteCache{Disabled: true}, "GET", 0, 2},
		{"POST not cached by default", StageCache{}, RouteCache{}, "POST", 0, 2},
		{"POST when the route opts in", StageCache{}, RouteCache{Rule: cache.Rule{Methods: []string{"POST"}}}, "POST", 0, 1},
		{"stage TTL", StageCache{TTL: time.Minute}, RouteCache{}, "GET", time.Minute, 2},
		{"route TTL shorter", StageCache{TTL: time.Minute}, RouteCache{Rule: cache.Rule{TTL: 10 * time.Second}}, "GET", 10 * time.Second, 2},
		{"route TTL longer", StageCache{TTL: time.Minute}, RouteCache{Rule: cache.Rule{TTL: 30 * time.Minute}}, "GET", 29 * time.Minute, 1},
		{"route TTL beyond a lifted maximum", StageCache{MaxTTL: 24 * time.Hour}, RouteCache{Rule: cache.Rule{TTL: 12 * time.Hour}}, "GET", 11 * time.Hour, 1},
		{"404 not cached by default", StageCache{}, RouteCache{}, "GET /missing", 0, 2},
		{"404 when the route lists it", StageCache{}, RouteCache{Rule: cache.Rule{Statuses: []int{200, 404}}}, "GET /missing", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &cacheBackend{fn: func(w http.ResponseWriter, r *http.Request, n int64) {
				if r.URL.Path == "/items/missing" {
					w.WriteHeader(404)
				}
				fmt.Fprintf(w, "call %d", n)
			}}
			api := NewAPI("items", REST)
			method, path := tt.method, "/prod/items/1"
			if m, p, ok := strings.Cut(tt.method, " "); ok {
				method, path = m, "/prod/items"+p
			}
			api.AddRoute(Route{Method: "ANY", Path: "/items/{id}", Integration: be, Cache: tt.route})
			gw, _, clk := cachedGateway(t, api, tt.stage)
			serve(gw, method, path, nil)
			clk.Advance(tt.advance)
			serve(gw, method, path, nil)
			if got := be.calls.Load(); got != tt.wantCalls {
				t.Fatalf("integration calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestCacheOffByDefault(t *testing.T) {
	be := &cacheBackend{}
	api := NewAPI("items", REST)
	api.AddRoute(Route{Method: "GET", Path: "/items", Integration: be, Cache: RouteCache{Rule: cache.Rule{TTL: time.Minute}}})
	gw := newGateway(t)
	st := mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	serve(gw, "GET", "/prod/items", nil)
	serve(gw, "GET", "/prod/items", nil)
	if got := be.calls.Load(); got != 2 {
		t.Fatalf("calls = %d with the stage cache off, want 2", got)
	}
	if err := st.FlushCache(context.Background()); !errors.Is(err, ErrNoStageCache) {
		t.Fatalf("FlushCache = %v, want ErrNoStageCache", err)
	}
	if s := st.CacheStats(); s != (cache.Stats{}) {
		t.Fatalf("CacheStats = %+v, want zero", s)
	}
}

func TestCacheKeyParamsThroughGateway(t *testing.T) {
	tests := []struct {
		name   string
		key    cache.KeyParams
		a, b   string
		hdrA   []string
		hdrB   []string
		shared bool
	}{
		{"path ids split by default", cache.KeyParams{}, "/prod/pets/1", "/prod/pets/2", nil, nil, false},
		{"template only, as the model gateway", cache.KeyParams{Path: []string{}}, "/prod/pets/1", "/prod/pets/2", nil, nil, true},
		{"declared path parameter", cache.KeyParams{Path: []string{"id"}}, "/prod/pets/1?x=1", "/prod/pets/1?x=2", nil, nil, true},
		{"undeclared query shares", cache.KeyParams{}, "/prod/pets/1?type=a&dept=A", "/prod/pets/1?type=a&dept=B", nil, nil, true},
		{"declared query splits", cache.KeyParams{Query: []string{"dept"}}, "/prod/pets/1?dept=A", "/prod/pets/1?dept=B", nil, nil, false},
		{"declared header splits", cache.KeyParams{Headers: []string{"Accept-Language"}}, "/prod/pets/1", "/prod/pets/1", []string{"Accept-Language", "en"}, []string{"Accept-Language", "fr"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := NewAPI("pets", REST)
			api.AddRoute(Route{Method: "GET", Path: "/pets/{id}", Integration: &cacheBackend{}, Cache: RouteCache{Rule: cache.Rule{Key: tt.key}}})
			gw, _, _ := cachedGateway(t, api, StageCache{})
			serve(gw, "GET", tt.a, nil, tt.hdrA...)
			rec := serve(gw, "GET", tt.b, nil, tt.hdrB...)
			if got := rec.Header().Get("X-Cache") == "Hit"; got != tt.shared {
				t.Fatalf("second request shared the entry = %v, want %v", got, tt.shared)
			}
		})
	}
}

func TestCacheIdentityThroughGateway(t *testing.T) {
	tests := []struct {
		name   string
		route  RouteCache
		a, b   string // Authorization headers
		shared bool
	}{
		{"different callers never share", RouteCache{}, "Bearer alice", "Bearer bob", false},
		{"a caller shares with itself", RouteCache{}, "Bearer alice", "Bearer alice", true},
		{"anonymous does not get an authenticated entry", RouteCache{}, "Bearer alice", "", false},
		{"public responses are shared", RouteCache{Rule: cache.Rule{Public: true}}, "Bearer alice", "Bearer bob", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := NewAPI("me", HTTP)
			api.AddRoute(Route{Method: "GET", Path: "/me", Integration: &cacheBackend{}, Cache: tt.route})
			gw, _, _ := cachedGateway(t, api, StageCache{})
			hdr := func(v string) []string {
				if v == "" {
					return nil
				}
				return []string{"Authorization", v}
			}
			serve(gw, "GET", "/prod/me", nil, hdr(tt.a)...)
			rec := serve(gw, "GET", "/prod/me", nil, hdr(tt.b)...)
			if got := rec.Header().Get("X-Cache") == "Hit"; got != tt.shared {
				t.Fatalf("shared = %v, want %v", got, tt.shared)
			}
		})
	}
}

func TestCacheInvalidationThroughGateway(t *testing.T) {
	admin := func(r *http.Request) bool { return r.Header.Get("X-Role") == "admin" }
	tests := []struct {
		name       string
		inv        cache.Invalidation
		role       string
		wantStatus int
		wantBody   string // prefix
		wantHeader bool
	}{
		{"authorised caller refreshes", cache.Invalidation{Authorize: admin}, "admin", 200, "call 2", false},
		{"default: nobody may; served with a warning", cache.Invalidation{}, "admin", 200, "call 1", true},
		{"SUCCEED_WITH_RESPONSE_HEADER", cache.Invalidation{Authorize: admin, Unauthorized: cache.SucceedWithResponseHeader}, "user", 200, "call 1", true},
		{"SUCCEED_WITHOUT_RESPONSE_HEADER", cache.Invalidation{Authorize: admin, Unauthorized: cache.SucceedWithoutResponseHeader}, "user", 200, "call 1", false},
		{"FAIL_WITH_403 is a gateway response", cache.Invalidation{Authorize: admin, Unauthorized: cache.FailWith403}, "user", 403, `{"message":"Not allowed to flush"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &cacheBackend{}
			api := NewAPI("pets", REST)
			api.Handle("GET /pets", be)
			api.GatewayResponses = map[reqctx.ResponseType]GatewayResponse{reqctx.AccessDenied: {Body: `{"message":"Not allowed to flush"}`}}
			gw, st, _ := cachedGateway(t, api, StageCache{Invalidation: tt.inv})
			serve(gw, "GET", "/prod/pets", nil)
			rec := serve(gw, "GET", "/prod/pets", nil, "Cache-Control", "max-age=0", "X-Role", tt.role)
			if rec.Code != tt.wantStatus || !strings.HasPrefix(rec.Body.String(), tt.wantBody) {
				t.Fatalf("got %d %q, want %d %q…", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if got := rec.Header().Get("Warning") != ""; got != tt.wantHeader {
				t.Fatalf("Warning present = %v, want %v", got, tt.wantHeader)
			}
			if tt.wantStatus == 403 && rec.Header().Get("X-Amzn-Errortype") != "AccessDeniedException" {
				t.Fatalf("error type %q", rec.Header().Get("X-Amzn-Errortype"))
			}
			// Everyone then gets what is in the cache.
			next := serve(gw, "GET", "/prod/pets", nil)
			xcache(t, next, "Hit")
			if tt.wantBody == "call 2" != strings.HasPrefix(next.Body.String(), "call 2") {
				t.Fatalf("next request got %q", next.Body)
			}
			s := st.CacheStats()
			if s.Invalidations+s.DeniedInvalidations != 1 {
				t.Fatalf("stats = %+v, want one invalidation attempt", s)
			}
		})
	}
}

func TestStageFlushCache(t *testing.T) {
	be := &cacheBackend{}
	api := NewAPI("pets", REST)
	api.Handle("GET /pets", be)
	gw, prod, _ := cachedGateway(t, api, StageCache{})
	dev := mustDeploy(t, gw, api, StageConfig{Name: "dev", Cache: StageCache{Enabled: true, StatusHeader: "X-Cache"}})
	for _, p := range []string{"/prod/pets", "/dev/pets"} {
		serve(gw, "GET", p, nil)
		xcache(t, serve(gw, "GET", p, nil), "Hit")
	}
	if err := prod.FlushCache(context.Background()); err != nil {
		t.Fatal(err)
	}
	xcache(t, serve(gw, "GET", "/prod/pets", nil), "Miss")
	xcache(t, serve(gw, "GET", "/dev/pets", nil), "Hit") // other stages keep theirs
	if err := dev.FlushCache(context.Background()); err != nil {
		t.Fatal(err)
	}
	xcache(t, serve(gw, "GET", "/dev/pets", nil), "Miss")
}

func TestCacheStampedeThroughGateway(t *testing.T) {
	const n = 10
	release := make(chan struct{})
	be := &cacheBackend{fn: func(w http.ResponseWriter, r *http.Request, k int64) {
		<-release
		fmt.Fprintf(w, "call %d", k)
	}}
	api := NewAPI("hot", REST)
	api.Handle("GET /hot", be)
	gw, st, _ := cachedGateway(t, api, StageCache{})
	var wg sync.WaitGroup
	bodies := make(chan string, n)
	for range n {
		wg.Go(func() { bodies <- serve(gw, "GET", "/prod/hot", nil).Body.String() })
	}
	deadline := time.Now().Add(10 * time.Second)
	for be.calls.Load() != 1 || st.CacheStats().Waiting != n-1 {
		if time.Now().After(deadline) {
			t.Fatalf("calls %d, waiting %d: the requests did not line up", be.calls.Load(), st.CacheStats().Waiting)
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(bodies)
	for b := range bodies {
		if b != "call 1" {
			t.Errorf("body %q, want call 1", b)
		}
	}
	if got := be.calls.Load(); got != 1 {
		t.Fatalf("%d concurrent misses made %d integration calls, want 1", n, got)
	}
}

func TestCacheSizeLimitThroughGateway(t *testing.T) {
	be := &cacheBackend{fn: func(w http.ResponseWriter, r *http.Request, k int64) {
		w.Write([]byte(strings.Repeat("x", 2048)))
	}}
	api := NewAPI("big", REST)
	api.Handle("GET /big", be)
	gw, st, _ := cachedGateway(t, api, StageCache{MaxEntryBytes: 1024})
	for range 2 {
		if rec := serve(gw, "GET", "/prod/big", nil); rec.Body.Len() != 2048 {
			t.Fatalf("body of %d bytes, want the whole 2048", rec.Body.Len())
		}
	}
	if be.calls.Load() != 2 || st.CacheStats().Uncacheable != 2 {
		t.Fatalf("calls %d stats %+v: a body over the limit must not be cached", be.calls.Load(), st.CacheStats())
	}
}

func TestCacheTimeoutNotCached(t *testing.T) {
	api := NewAPI("slow", REST)
	var calls atomic.Int64
	api.AddRoute(Route{Method: "GET", Path: "/slow", Timeout: time.Second, Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-r.Context().Done()
	})})
	gw, _, clk := cachedGateway(t, api, StageCache{})
	for i := range 2 {
		base := clk.Timers()
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serve(gw, "GET", "/prod/slow", nil) }()
		if !clk.WaitForTimers(base+1, 5*time.Second) {
			t.Fatal("no timeout timer armed")
		}
		clk.Advance(time.Second)
		if rec := <-done; rec.Code != http.StatusGatewayTimeout {
			t.Fatalf("request %d: status %d, want 504", i, rec.Code)
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("calls = %d: a 504 must not be cached", calls.Load())
	}
}

func TestCacheAcrossRedeploys(t *testing.T) {
	be := &cacheBackend{}
	api := NewAPI("pets", REST)
	api.Handle("GET /pets", be)
	gw, st, _ := cachedGateway(t, api, StageCache{})
	serve(gw, "GET", "/prod/pets", nil)
	// A redeploy (here with a smaller cache) keeps the stage's entries and
	// counts.
	mustDeploy(t, gw, api, StageConfig{Name: "prod", Cache: StageCache{Enabled: true, StatusHeader: "X-Cache", Capacity: 1 << 20}})
	xcache(t, serve(gw, "GET", "/prod/pets", nil), "Hit")
	if s := st.CacheStats(); s.Hits != 1 || s.Misses != 1 {
		t.Fatalf("stats across redeploys = %+v", s)
	}
	// Turning the cache off on a redeploy bypasses it.
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	if rec := serve(gw, "GET", "/prod/pets", nil); rec.Header().Get("X-Cache") != "" {
		t.Fatal("cache still runs after it was turned off")
	}
}

func TestCacheSharedStoreBetweenGateways(t *testing.T) {
	store, err := cache.NewMemoryStore(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	var calls [2]atomic.Int64
	var gws [2]*Gateway
	var stages [2]*Stage
	for i := range gws {
		api := NewAPI("pets", REST)
		api.HandleFunc("GET /pets", func(w http.ResponseWriter, r *http.Request) {
			calls[i].Add(1)
			fmt.Fprintf(w, "from gateway %d", i)
		})
		gws[i], stages[i], _ = cachedGateway(t, api, StageCache{}, WithCacheStore(store))
	}
	serve(gws[0], "GET", "/prod/pets", nil)
	rec := serve(gws[1], "GET", "/prod/pets", nil)
	xcache(t, rec, "Hit")
	if rec.Body.String() != "from gateway 0" || calls[1].Load() != 0 {
		t.Fatalf("gateway 1 got %q (calls %d), want gateway 0's response", rec.Body, calls[1].Load())
	}
	if err := stages[1].FlushCache(context.Background()); err != nil {
		t.Fatal(err)
	}
	xcache(t, serve(gws[0], "GET", "/prod/pets", nil), "Miss")
}

func TestCacheEncryptedThroughGateway(t *testing.T) {
	api := NewAPI("pets", REST)
	api.Handle("GET /pets", &cacheBackend{})
	gw, _, _ := cachedGateway(t, api, StageCache{EncryptionKey: []byte("0123456789abcdef")})
	miss := serve(gw, "GET", "/prod/pets", nil)
	hit := serve(gw, "GET", "/prod/pets", nil)
	xcache(t, hit, "Hit")
	if hit.Body.String() != miss.Body.String() {
		t.Fatalf("hit %q, want %q", hit.Body, miss.Body)
	}
}

func TestCacheDeployErrors(t *testing.T) {
	tests := []struct {
		name  string
		stage StageCache
		route RouteCache
		want  string
	}{
		{"negative capacity", StageCache{Capacity: -1}, RouteCache{}, "Capacity"},
		{"negative TTL", StageCache{TTL: -time.Second}, RouteCache{}, "TTL is negative"},
		{"stage TTL over the maximum", StageCache{TTL: 2 * time.Hour}, RouteCache{}, "maximum TTL"},
		{"route TTL over the maximum", StageCache{}, RouteCache{Rule: cache.Rule{TTL: 2 * time.Hour}}, "over the maximum"},
		{"bad encryption key", StageCache{EncryptionKey: []byte("short")}, RouteCache{}, "16, 24 or 32"},
		{"unknown strategy", StageCache{Invalidation: cache.Invalidation{Unauthorized: "NOPE"}}, RouteCache{}, "strategy"},
		{"bad status header", StageCache{StatusHeader: "X Cache"}, RouteCache{}, "status header"},
		{"unknown key path parameter", StageCache{}, RouteCache{Rule: cache.Rule{Key: cache.KeyParams{Path: []string{"petId"}}}}, `"petId" is not a path parameter of /pets/{id}`},
		{"lower-case method", StageCache{}, RouteCache{Rule: cache.Rule{Methods: []string{"get"}}}, "method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := newGateway(t)
			api := NewAPI("pets", REST)
			api.AddRoute(Route{Method: "GET", Path: "/pets/{id}", Integration: &cacheBackend{}, Cache: tt.route})
			tt.stage.Enabled = true
			_, err := gw.Deploy(api, StageConfig{Name: "prod", Cache: tt.stage})
			var re *RouteError
			if !errors.As(err, &re) || re.Route != "GET /pets/{id}" || re.Field != "Cache" || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Deploy error = %v, want a RouteError on GET /pets/{id} field Cache mentioning %q", err, tt.want)
			}
		})
	}
}

// BenchmarkCache compares a request through the whole gateway to a route
// without a cache and to the same route served from the stage cache.
func BenchmarkCache(b *testing.B) {
	req := httptest.NewRequest("GET", "/prod/pets/7", nil)
	run := func(b *testing.B, sc StageCache) {
		gw, err := New(WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		api := NewAPI("bench", REST)
		api.Handle("GET /pets/{id}", okHandler)
		if _, err := gw.Deploy(api, StageConfig{Name: "prod", Cache: sc}); err != nil {
			b.Fatal(err)
		}
		w := &discardWriter{h: http.Header{}}
		gw.ServeHTTP(w, req)
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			gw.ServeHTTP(w, req)
		}
	}
	b.Run("uncached", func(b *testing.B) { run(b, StageCache{}) })
	b.Run("hit", func(b *testing.B) { run(b, StageCache{Enabled: true}) })
}

// TestCacheHitAllocations pins the allocations of a hit through the whole
// gateway below those of the same request served by the integration.
func TestCacheHitAllocations(t *testing.T) {
	req := httptest.NewRequest("GET", "/prod/pets/7", nil)
	allocs := func(sc StageCache) float64 {
		gw := newGateway(t)
		api := NewAPI("bench", REST)
		api.Handle("GET /pets/{id}", okHandler)
		mustDeploy(t, gw, api, StageConfig{Name: "prod", Cache: sc})
		w := &discardWriter{h: http.Header{}}
		gw.ServeHTTP(w, req)
		return testing.AllocsPerRun(200, func() {
			clear(w.h)
			gw.ServeHTTP(w, req)
		})
	}
	uncached, hit := allocs(StageCache{}), allocs(StageCache{Enabled: true})
	if hit > uncached {
		t.Fatalf("a hit allocates %v times, more than the uncached request's %v", hit, uncached)
	}
	t.Logf("allocs/op: uncached %v, hit %v", uncached, hit)
}
