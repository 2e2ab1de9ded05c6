package portico_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/porticotest"
)

func TestCORS(t *testing.T) {
	var calls atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "https://evil.example") // replaced by the gateway
		w.Header().Set("X-Total", "3")
		_, _ = w.Write([]byte("ok"))
	})
	api := portico.NewAPI("pets", portico.HTTP)
	api.CORS = &portico.CORS{
		AllowOrigins:     []string{"https://app.example.com", "https://*.example.org"},
		AllowMethods:     []string{"GET", "PUT"},
		AllowHeaders:     []string{"Content-Type", "X-Api-Key"},
		ExposeHeaders:    []string{"X-Total"},
		MaxAge:           90 * time.Second,
		AllowCredentials: true,
	}
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets", Integration: h})
	api.AddRoute(portico.Route{Method: "PUT", Path: "/pets/{id}", Integration: h, Auth: portico.RouteAuth{APIKeyRequired: true}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/public", Integration: h, CORS: &portico.CORS{AllowOrigins: []string{"*"}}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/closed", Integration: h, CORS: &portico.CORS{}})
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "prod"}, portico.WithAPIKeys(auth.NewMemoryKeyStore()))

	type want struct {
		code    int
		headers map[string]string // "" means absent
		invoked bool
	}
	for _, tc := range []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		want    want
	}{
		{"actual request from an allowed origin", "GET", "/pets", map[string]string{"Origin": "https://app.example.com"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Total", "Vary": "Origin"}, true}},
		{"origins compare case-insensitively", "GET", "/pets", map[string]string{"Origin": "HTTPS://App.Example.com"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "HTTPS://App.Example.com"}, true}},
		{"wildcard subdomain", "GET", "/pets", map[string]string{"Origin": "https://a.b.example.org:8443"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "https://a.b.example.org:8443"}, true}},
		{"wildcard does not match the bare domain", "GET", "/pets", map[string]string{"Origin": "https://example.org"},
			want{200, map[string]string{"Access-Control-Allow-Origin": ""}, true}},
		{"wildcard does not match a look-alike", "GET", "/pets", map[string]string{"Origin": "https://evilexample.org"},
			want{200, map[string]string{"Access-Control-Allow-Origin": ""}, true}},
		{"another origin gets no CORS headers", "GET", "/pets", map[string]string{"Origin": "https://other.example"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": "", "Vary": "Origin"}, true}},
		{"no Origin, no CORS", "GET", "/pets", nil,
			want{200, map[string]string{"Vary": "", "Access-Control-Expose-Headers": ""}, true}},
		{"preflight answered before the API key check", "OPTIONS", "/pets/7", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type, x-api-key"},
			want{204, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET, PUT",
				"Access-Control-Allow-Headers": "Content-Type, X-Api-Key", "Access-Control-Max-Age": "90", "Access-Control-Allow-Credentials": "true"}, false}},
		{"preflight for a method not allowed", "OPTIONS", "/pets/7", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "DELETE"},
			want{204, map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}, false}},
		{"preflight asking for a header not allowed", "OPTIONS", "/pets", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-secret"},
			want{204, map[string]string{"Access-Control-Allow-Origin": ""}, false}},
		{"preflight from another origin", "OPTIONS", "/pets", map[string]string{"Origin": "https://other.example",
			"Access-Control-Request-Method": "GET"},
			want{204, map[string]string{"Access-Control-Allow-Origin": ""}, false}},
		{"preflight for an unknown path uses the API's policy", "OPTIONS", "/nowhere", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "GET"},
			want{204, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"}, false}},
		{"gateway errors carry CORS headers", "PUT", "/pets/7", map[string]string{"Origin": "https://app.example.com"},
			want{403, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "X-Amzn-Errortype": "ForbiddenException"}, false}},
		{"404 carries CORS headers", "GET", "/nowhere", map[string]string{"Origin": "https://app.example.com"},
			want{404, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"}, false}},
		{"OPTIONS without preflight headers is routed", "OPTIONS", "/pets", map[string]string{"Origin": "https://app.example.com"},
			want{405, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"}, false}},
		{"route policy replaces the API's", "GET", "/public", map[string]string{"Origin": "https://anyone.example"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""}, true}},
		{"route preflight uses the route's policy", "OPTIONS", "/public", map[string]string{"Origin": "https://anyone.example",
			"Access-Control-Request-Method": "GET"},
			want{204, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, POST"}, false}},
		{"route with an empty policy allows no origin", "GET", "/closed", map[string]string{"Origin": "https://app.example.com"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": ""}, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := calls.Load()
			r := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			rec := st.Do(r)
			if rec.Code != tc.want.code {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tc.want.code, rec.Body)
			}
			for k, v := range tc.want.headers {
				if got := strings.Join(rec.Header().Values(k), ", "); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if invoked := calls.Load() > before; invoked != tc.want.invoked {
				t.Errorf("integration invoked = %v, want %v", invoked, tc.want.invoked)
			}
		})
	}
}

// TestCORSPreflightBeforeDefaultRouteAuthorizer: a $default route with an
// authorizer would otherwise eat every OPTIONS request.
func TestCORSPreflightBeforeDefaultRouteAuthorizer(t *testing.T) {
	api := portico.NewAPI("spa", portico.HTTP)
	api.CORS = &portico.CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}}
	api.AddRoute(portico.Route{Path: portico.DefaultRouteKey, Integration: whoami, Auth: portico.RouteAuth{APIKeyRequired: true}})
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "prod"}, portico.WithAPIKeys(auth.NewMemoryKeyStore()))
	r := httptest.NewRequest("OPTIONS", "/anything/here", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "patch")
	r.Header.Add("Access-Control-Request-Headers", "authorization")
	r.Header.Add("Access-Control-Request-Headers", "x-trace")
	rec := st.Do(r)
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "*" ||
		rec.Header().Get("Access-Control-Allow-Methods") != "PATCH" ||
		rec.Header().Get("Access-Control-Allow-Headers") != "authorization, x-trace" {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
}

func TestCORSDeployErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cors portico.CORS
		want string
	}{
		{"credentials with any origin", portico.CORS{AllowOrigins: []string{"*"}, AllowCredentials: true}, "AllowCredentials"},
		{"origin without scheme", portico.CORS{AllowOrigins: []string{"app.example.com"}}, "app.example.com"},
		{"origin with a path", portico.CORS{AllowOrigins: []string{"https://a.example/x"}}, "https://a.example/x"},
		{"wildcard inside a label", portico.CORS{AllowOrigins: []string{"https://a*.example.com"}}, "a*.example.com"},
		{"bad method", portico.CORS{AllowMethods: []string{"GET PUT"}}, "GET PUT"},
		{"bad header", portico.CORS{AllowHeaders: []string{"x y"}}, "x y"},
		{"negative max age", portico.CORS{MaxAge: -time.Second}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := portico.New()
			if err != nil {
				t.Fatal(err)
			}
			api := portico.NewAPI("a", portico.HTTP)
			api.HandleFunc("GET /x", func(http.ResponseWriter, *http.Request) {})
			api.CORS = &tc.cors
			if _, err := g.Deploy(api, portico.StageConfig{Name: "s"}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("API policy: err = %v, want it to name %q", err, tc.want)
			}
			api.CORS = nil
			api.Routes[0].CORS = &tc.cors
			_, err = g.Deploy(api, portico.StageConfig{Name: "s"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "GET /x") {
				t.Fatalf("route policy: err = %v, want it to name the route and %q", err, tc.want)
			}
			if _, err := tc.cors.Middleware(); err == nil {
				t.Fatal("Middleware accepted the policy")
			}
		})
	}
}

func TestCORSMiddleware(t *testing.T) {
	mw, err := portico.CORS{AllowOrigins: []string{"https://app.example.com"}, MaxAge: 1500 * time.Millisecond}.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding")
		w.WriteHeader(201)
	}))
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Origin", "https://app.example.com")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 201 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		strings.Join(rec.Header().Values("Vary"), ",") != "Accept-Encoding,Origin" {
		t.Fatalf("actual: %d %v", rec.Code, rec.Header())
	}
	r = httptest.NewRequest("OPTIONS", "/", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "POST")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 204 || rec.Header().Get("Access-Control-Max-Age") != "2" || rec.Header().Get("Access-Control-Allow-Methods") != "GET, HEAD, POST" {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
}
