package cache_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/portico-gw/portico/cache"
)

// The standalone middleware around an ordinary handler: the second request
// for the same pet is a hit, a different pet is a miss, and a query
// parameter that is not in the key does not split the cache.
func ExampleMiddleware() {
	calls := 0
	pets := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		fmt.Fprintf(w, "pet %s (lang %s)", r.PathValue("id"), r.URL.Query().Get("lang"))
	})
	store, err := cache.NewMemoryStore(64 << 20)
	if err != nil {
		panic(err)
	}
	mw, err := cache.Middleware(store, cache.Rule{
		TTL: time.Minute,
		Key: cache.KeyParams{Query: []string{"lang"}},
	}, cache.WithStatusHeader("X-Cache"))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /pets/{id}", mw(pets))

	for _, target := range []string{"/pets/1?lang=en", "/pets/1?lang=en&utm=x", "/pets/2?lang=en", "/pets/1?lang=fr"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		fmt.Printf("%-22s %-4s %s\n", target, rec.Header().Get("X-Cache"), rec.Body)
	}
	fmt.Println("integration calls:", calls)
	// Output:
	// /pets/1?lang=en        Miss pet 1 (lang en)
	// /pets/1?lang=en&utm=x  Hit  pet 1 (lang en)
	// /pets/2?lang=en        Miss pet 2 (lang en)
	// /pets/1?lang=fr        Miss pet 1 (lang fr)
	// integration calls: 3
}

// Flushing a namespace empties it for every cache sharing the store.
func ExampleCache_Flush() {
	store, _ := cache.NewMemoryStore(1 << 20)
	c, _ := cache.New(store, cache.WithNamespace("pets/prod"), cache.WithStatusHeader("X-Cache"))
	mw, _ := c.Middleware(cache.Rule{})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	get := func() string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/pets", nil))
		return rec.Header().Get("X-Cache")
	}
	fmt.Println(get(), get())
	if err := c.Flush(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println(get(), get())
	st := c.Stats()
	fmt.Printf("hits %d misses %d\n", st.Hits, st.Misses)
	// Output:
	// Miss Hit
	// Miss Hit
	// hits 2 misses 2
}
