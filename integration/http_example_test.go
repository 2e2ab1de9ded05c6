package integration_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/portico-gw/portico/integration"
)

func ExampleHTTPProxy() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s?%s from %s", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("X-Forwarded-For"))
	}))
	defer backend.Close()

	// In a gateway: api.Handle("GET /pets/{id}", proxy), the target naming
	// ${stageVariables.backend}. Here a ServeMux pattern fills {id}.
	proxy := &integration.HTTPProxy{Target: backend.URL + "/v1/pets/{id}?verbose=1"}
	mux := http.NewServeMux()
	mux.Handle("GET /pets/{id}", proxy)

	for _, path := range []string{"/pets/7?lang=en", "/pets/a%2F..%2Fb", "/pets/%2E%2E"} {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = "198.51.100.7:40000"
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 GET /v1/pets/7?verbose=1&lang=en from 198.51.100.7
	// 200 GET /v1/pets/a%2F..%2Fb?verbose=1 from 198.51.100.7
	// 400 {"message":"Invalid request parameters"}
}

func ExampleNewPool() {
	var backends []string
	for _, name := range []string{"a", "b"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s served %s", name, r.URL.Path)
		}))
		defer srv.Close()
		backends = append(backends, srv.URL)
	}
	pool, err := integration.NewPool(backends,
		integration.WithBalancer(integration.RoundRobin),
		integration.WithOutlierDetection(integration.OutlierDetection{ConsecutiveFailures: 3}),
		integration.WithRetries(integration.RetryPolicy{Attempts: 2}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	// With a pool, the target is a path: the pool picks scheme and host.
	mux := http.NewServeMux()
	mux.Handle("/api/{proxy...}", &integration.HTTPProxy{Target: "/{proxy}", Pool: pool})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for range 3 {
		res, err := http.Get(srv.URL + "/api/pets/7")
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(string(b))
	}
	for _, st := range pool.Status() {
		fmt.Println(st.Requests, st.Healthy, st.Breaker)
	}
	// Output:
	// a served /pets/7
	// b served /pets/7
	// a served /pets/7
	// 2 true closed
	// 1 true closed
}
