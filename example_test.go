package portico_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/reqctx"
)

// An existing http.Handler is an integration; the gateway strips the stage
// from the path and puts path parameters in PathValue.
func Example() {
	api := portico.NewAPI("pets", portico.REST)
	api.HandleFunc("GET /pets/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "pet %s (path %s)", r.PathValue("id"), r.URL.Path)
	})
	gw, _ := portico.New()
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, httptest.NewRequest("GET", "/prod/pets/7", nil))
	fmt.Println(rec.Code, rec.Body)
	// Output: 200 pet 7 (path /pets/7)
}

// Deploy reports bad configuration with the route and field at fault.
func ExampleGateway_Deploy_error() {
	api := portico.NewAPI("pets", portico.REST)
	api.Handle("GET /pets/{id", integration.Mock{})
	gw, _ := portico.New()
	_, err := gw.Deploy(api, portico.StageConfig{Name: "prod"})
	fmt.Println(err != nil)
	// Output: true
}

// Stage variables reach integrations at deploy time; an undefined one is a
// deploy error.
func ExampleStageConfig() {
	api := portico.NewAPI("svc", portico.HTTP)
	api.Handle("GET /where", integration.Mock{Body: "backend=${stageVariables.backend}"})
	gw, _ := portico.New()
	for _, cfg := range []portico.StageConfig{
		{Name: "dev", Variables: map[string]string{"backend": "dev.internal"}},
		{Name: "prod", Variables: map[string]string{"backend": "prod.internal"}},
		{Name: "broken"},
	} {
		if _, err := gw.Deploy(api, cfg); err != nil {
			fmt.Println("deploy", cfg.Name, "failed")
			continue
		}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest("GET", "/"+cfg.Name+"/where", nil))
		fmt.Println(cfg.Name, rec.Body)
	}
	// Output:
	// dev backend=dev.internal
	// prod backend=prod.internal
	// deploy broken failed
}

// Two versions side by side: by path, by header, and a default.
func ExampleGateway_SetVersioning() {
	gw, _ := portico.New()
	for _, v := range []string{"v1", "v2"} {
		api := portico.NewAPI("pets", portico.REST)
		api.Version = v
		api.Handle("GET /hello", integration.Mock{Body: "hello from " + v})
		if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
			fmt.Println(err)
			return
		}
	}
	_ = gw.SetVersioning("pets", portico.Versioning{Header: "Api-Version", Default: "v2"})
	get := func(path, version string) string {
		req := httptest.NewRequest("GET", path, nil)
		if version != "" {
			req.Header.Set("Api-Version", version)
		}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	fmt.Println(get("/prod/v1/hello", ""))
	fmt.Println(get("/prod/hello", "v1"))
	fmt.Println(get("/prod/hello", ""))
	// Output:
	// hello from v1
	// hello from v1
	// hello from v2
}

// Gateway responses can be customised per API; every error type keeps its
// x-amzn-ErrorType header.
func ExampleGatewayResponse() {
	api := portico.NewAPI("pets", portico.REST)
	api.Handle("GET /pets", integration.Mock{Body: "[]"})
	api.GatewayResponses = map[reqctx.ResponseType]portico.GatewayResponse{
		reqctx.ResourceNotFound: {Body: `{"error":$context.error.messageString,"stage":"$context.stage"}`},
	}
	gw, _ := portico.New()
	_, _ = gw.Deploy(api, portico.StageConfig{Name: "prod"})
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, httptest.NewRequest("GET", "/prod/owners", nil))
	fmt.Println(rec.Code, rec.Header().Get("x-amzn-ErrorType"), rec.Body)
	_ = gw.Shutdown(context.Background())
	// Output: 404 NotFoundException {"error":"Not Found","stage":"prod"}
}

// With a CORS policy the gateway answers browsers' preflight requests
// itself, before authorizers and integrations, and adds the CORS headers to
// every response to an allowed origin.
func ExampleCORS() {
	api := portico.NewAPI("pets", portico.HTTP)
	api.CORS = &portico.CORS{
		AllowOrigins: []string{"https://app.example.com"},
		AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Content-Type"},
		MaxAge:       10 * time.Minute,
	}
	api.Handle("POST /pets", integration.Mock{Status: 201, Body: `{"id":"7"}`})
	gw, _ := portico.New()
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		fmt.Println(err)
		return
	}
	pre := httptest.NewRequest("OPTIONS", "/prod/pets", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, pre)
	fmt.Println(rec.Code, rec.Header().Get("Access-Control-Allow-Methods"), rec.Header().Get("Access-Control-Max-Age"))

	post := httptest.NewRequest("POST", "/prod/pets", nil)
	post.Header.Set("Origin", "https://app.example.com")
	rec = httptest.NewRecorder()
	gw.ServeHTTP(rec, post)
	fmt.Println(rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	// Output:
	// 204 GET, POST 600
	// 201 https://app.example.com
}
