package portico_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

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
