package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/reqctx"
)

// petStage is the API testdata/petstore.yaml describes, served by a
// Portico gateway on a loopback server.
type petStage struct {
	url     string // the stage's URL
	apiKey  string // a valid API key
	deleted chan string
}

const (
	aliceKeyID  = "AKIDALICE"
	aliceSecret = "alice-secret"
	aliceARN    = "arn:aws:iam::000000000000:user/alice"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newPetStage deploys the pet store on a new gateway: an API key route,
// a route answering 429 with Retry-After on odd calls, and SigV4 routes.
func newPetStage(t *testing.T) *petStage {
	t.Helper()
	ctx := context.Background()
	keyStore := auth.NewMemoryKeyStore()
	keys, err := auth.NewKeys(keyStore)
	if err != nil {
		t.Fatal(err)
	}
	_, value, err := keys.Create(ctx, "sdk-test")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.NewStaticCredentials(auth.Credential{
		AccessKeyID: aliceKeyID, SecretAccessKey: aliceSecret, AccountID: "000000000000",
		UserID: "AIDAALICE", ARN: aliceARN,
		Policy: auth.AllowPolicy("arn:aws:execute-api:*:*:pets/prod/*/admin/*"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := &petStage{apiKey: value, deleted: make(chan string, 10)}
	var busy atomic.Int64
	api := portico.NewAPI("pets", portico.REST)
	api.HandleFunc("GET /pets", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		name := fmt.Sprintf("limit=%s tags=%s trace=%s", q.Get("limit"), strings.Join(q["tag"], ","), r.Header.Get("X-Trace-Id"))
		writeJSON(w, 200, []map[string]any{{"id": "1", "name": name}})
	})
	api.HandleFunc("POST /pets", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.Header().Set("x-amzn-ErrorType", "BadRequestException")
			writeJSON(w, 400, map[string]string{"message": "bad pet"})
			return
		}
		in["id"] = "42"
		writeJSON(w, 201, in)
	})
	api.HandleFunc("GET /pets/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if id == "missing" {
			w.Header().Set("x-amzn-ErrorType", "NotFoundException")
			writeJSON(w, 404, map[string]string{"message": "no pet " + id})
			return
		}
		writeJSON(w, 200, map[string]any{
			"id": id, "name": "Rex", "tag": nil, "status": "available",
			"owner":      map[string]any{"name": "Ann", "friends": []any{map[string]any{"name": "Bob"}}, "extra": 7},
			"attributes": map[string]int{"legs": 4},
		})
	})
	api.AddRoute(portico.Route{Method: "GET", Path: "/secret", Auth: portico.RouteAuth{APIKeyRequired: true},
		Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]string{"secret": "s3cr3t", "apiKeyId": reqctx.From(r.Context()).APIKeyID})
		})})
	api.HandleFunc("GET /busy", func(w http.ResponseWriter, r *http.Request) {
		n := busy.Add(1)
		if n%2 == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("x-amzn-ErrorType", "TooManyRequestsException")
			writeJSON(w, 429, map[string]string{"message": "Too Many Requests"})
			return
		}
		writeJSON(w, 200, map[string]any{"ok": true, "attempts": n})
	})
	iam := portico.RouteAuth{Authorizer: portico.AuthorizerIAM}
	api.AddRoute(portico.Route{Method: "DELETE", Path: "/admin/pets/{id}", Auth: iam,
		Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ps.deleted <- r.PathValue("id")
			w.WriteHeader(204)
		})})
	api.AddRoute(portico.Route{Method: "PUT", Path: "/admin/pets/{id}/tags", Auth: iam,
		Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var tags map[string]string
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &tags)
			writeJSON(w, 200, map[string]any{"id": r.PathValue("id"), "tags": tags, "by": reqctx.From(r.Context()).Identity.UserARN})
		})})
	gw, err := portico.New(portico.WithAPIKeys(keyStore), portico.WithCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})
	ps.url = srv.URL + "/prod"
	return ps
}

func loadDoc(t testing.TB, name string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	return doc
}

// goBinary returns the go command: the one on PATH, else $GOROOT/bin/go. A
// test that compiles generated code fails without it: it cannot be skipped.
func goBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("the go command is neither on PATH nor in $GOROOT/bin: the generated client cannot be compiled")
	return ""
}

// goCmd runs the go command in dir, failing the test with its output.
func goCmd(t *testing.T, ctx context.Context, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, goBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}
