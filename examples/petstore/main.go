// Command petstore serves a gateway defined entirely by an OpenAPI document,
// petstore.yaml: its routes, models, request validation, API key, CORS,
// gateway responses and integrations all come from the document's
// x-amazon-apigateway-* extensions. Go code only supplies the functions the
// document names (as Lambda functions are named) and a stand-in for the
// "legacy" HTTP service one route proxies to.
//
//	go run ./examples/petstore
//
//	curl -s http://127.0.0.1:8080/prod/pets
//	curl -s -X POST -H 'x-api-key: demoPetstoreKey0123456789' \
//	     -H 'content-type: application/json' -d '{"name":"Rex","tag":"dog"}' http://127.0.0.1:8080/prod/pets
//	curl -s -X POST -H 'x-api-key: demoPetstoreKey0123456789' \
//	     -H 'content-type: application/json' -d '{"nom":"Rex"}' http://127.0.0.1:8080/prod/pets   # 422, from the document
//	curl -s http://127.0.0.1:8080/prod/health                                                  # mock integration
//	curl -s http://127.0.0.1:8080/prod/legacy/inventory                                        # HTTP proxy
//
//	# the deployed stage, exported back as OpenAPI (or Swagger 2.0), and SDKs
//	curl -s http://127.0.0.1:8080/admin/export?format=yaml
//	curl -s http://127.0.0.1:8080/admin/export?spec=swagger
//	curl -s http://127.0.0.1:8080/admin/sdk?lang=go
//	curl -s http://127.0.0.1:8080/admin/sdk?lang=ts
//
// The same document can be checked, exported and turned into SDKs without
// writing any Go: go run ./cmd/portico import examples/petstore/petstore.yaml.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/openapi"
	"github.com/portico-gw/portico/openapi/sdk"
)

//go:embed petstore.yaml
var document []byte

// demoAPIKey is the demo's API key (shown in the command's comment).
const demoAPIKey = "demoPetstoreKey0123456789"

// Pet is the document's Pet model.
type Pet struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Tag  string `json:"tag,omitempty"`
}

// store is the functions' in-memory pet store.
type store struct {
	mu   sync.Mutex
	pets []Pet
}

func jsonResponse(status int, v any) (events.APIGatewayProxyResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}, nil
}

// registry holds the functions petstore.yaml names, written as aws-lambda-go
// handlers are.
func (s *store) registry() integration.Registry {
	return integration.Registry{
		"listPets": integration.Function(func(_ context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			s.mu.Lock()
			pets := slices.Clone(s.pets)
			s.mu.Unlock()
			if n, err := strconv.Atoi(e.QueryStringParameters["limit"]); err == nil && n < len(pets) {
				pets = pets[:n]
			}
			return jsonResponse(200, pets)
		}),
		"createPet": integration.Function(func(_ context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			var p Pet
			if err := json.Unmarshal([]byte(e.Body), &p); err != nil {
				return jsonResponse(400, map[string]string{"message": err.Error()})
			}
			s.mu.Lock()
			p.ID = strconv.Itoa(len(s.pets) + 1)
			s.pets = append(s.pets, p)
			s.mu.Unlock()
			return jsonResponse(201, p)
		}),
		"getPet": integration.Function(func(_ context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, p := range s.pets {
				if p.ID == e.PathParameters["petId"] {
					return jsonResponse(200, p)
				}
			}
			return jsonResponse(404, map[string]string{"message": "no pet " + e.PathParameters["petId"]})
		}),
	}
}

// legacy is the old inventory service the /legacy routes proxy to.
var legacy = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"service":"legacy-inventory","path":%q}`+"\n", r.URL.Path)
})

// newServer imports the document, deploys it on stage prod with the legacy
// service at legacyAddr, and returns the gateway and a mux that also serves
// /admin/export and /admin/sdk.
func newServer(legacyAddr string) (*portico.Gateway, http.Handler, []openapi.Warning, error) {
	s := &store{pets: []Pet{{ID: "1", Name: "Tom", Tag: "cat"}}}
	imp, err := openapi.Import(document, openapi.ImportOptions{Registry: s.registry()})
	if err != nil {
		return nil, nil, nil, err
	}
	keys := auth.NewMemoryKeyStore()
	mgr, err := auth.NewKeys(keys)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := mgr.Import(context.Background(), "demo", demoAPIKey); err != nil {
		return nil, nil, nil, err
	}
	gw, err := portico.New(portico.WithAPIKeys(keys))
	if err != nil {
		return nil, nil, nil, err
	}
	stage, err := gw.Deploy(imp.API, portico.StageConfig{
		Name:      "prod",
		Variables: map[string]string{"legacy": legacyAddr},
		Auth:      imp.Endpoint,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", gw)
	// GET /admin/export?spec=oas30|swagger&format=json|yaml&extensions=false
	mux.HandleFunc("GET /admin/export", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		opts := openapi.ExportOptions{
			Spec:           openapi.Spec(q.Get("spec")),
			Format:         openapi.Format(q.Get("format")),
			OmitExtensions: q.Get("extensions") == "false",
			BaseURL:        "http://" + r.Host + "/prod",
		}
		b, _, err := openapi.Export(stage, opts)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(b)
	})
	// GET /admin/sdk?lang=go|ts
	mux.HandleFunc("GET /admin/sdk", func(w http.ResponseWriter, r *http.Request) {
		doc, err := openapi.Document(stage, openapi.ExportOptions{OmitExtensions: true, BaseURL: "http://" + r.Host + "/prod"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var src []byte
		switch r.URL.Query().Get("lang") {
		case "go", "":
			src, err = sdk.Go(doc, sdk.GoOptions{Package: "petstore"})
		case "ts":
			src, err = sdk.TypeScript(doc, sdk.TSOptions{})
		default:
			err = errors.New("lang must be go or ts")
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(src)
	})
	return gw, mux, imp.Warnings, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	legacySrv := &http.Server{Handler: legacy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = legacySrv.Serve(ln) }()

	gw, h, warnings, err := newServer(ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range warnings {
		log.Printf("import warning: %s", w)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Shutdown(shutdown)
		_ = srv.Shutdown(shutdown)
		_ = legacySrv.Shutdown(shutdown)
	}()
	log.Printf("petstore on http://%s/prod (API key %s)", *addr, demoAPIKey)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
