package porticotest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/porticotest"
	"github.com/portico-gw/portico/reqctx"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func petsAPI() *portico.API {
	api := portico.NewAPI("pets", portico.REST)
	api.HandleFunc("GET /pets/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "pet %s on %s", r.PathValue("id"), reqctx.From(r.Context()).Stage)
	})
	api.HandleFunc("POST /pets", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(201)
		_, _ = w.Write(b)
	})
	api.HandleFunc("GET /wait", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	return api
}

func TestStageInMemoryAndOverHTTP(t *testing.T) {
	st := porticotest.NewStage(t, petsAPI(), portico.StageConfig{Name: "test"})
	if rec := st.Get("/pets/7"); rec.Code != 200 || rec.Body.String() != "pet 7 on test" {
		t.Fatalf("in memory: %d %q", rec.Code, rec.Body)
	}
	if rec := st.Send("POST", "/pets", `{"name":"Rex"}`); rec.Code != 201 || rec.Body.String() != `{"name":"Rex"}` {
		t.Fatalf("Send: %d %q", rec.Code, rec.Body)
	}
	if rec := st.Do(httptest.NewRequest("GET", "/nope", nil)); rec.Code != 404 {
		t.Fatalf("unknown path: %d", rec.Code)
	}
	res, err := st.Client().Get(st.URL("/pets/8"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "pet 8 on test" || res.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("over HTTP: %d %q", res.StatusCode, b)
	}
}

func TestVersionedStagePrefix(t *testing.T) {
	api := petsAPI()
	api.Version = "v3"
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "dev"})
	if rec := st.Get("/pets/1"); rec.Code != 200 {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	if got := st.URL("/x"); got != st.Server().URL+"/dev/v3/x" {
		t.Fatalf("URL = %s", got)
	}
}

func TestFakeClockDrivesTimeouts(t *testing.T) {
	clk := porticotest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := porticotest.NewStage(t, petsAPI(), portico.StageConfig{Name: "test"}, portico.WithClock(clk))
	done := make(chan int)
	go func() { done <- st.Get("/wait").Code }()
	if !clk.WaitForTimers(1, 5*time.Second) {
		t.Fatal("no timer armed")
	}
	clk.Advance(portico.DefaultIntegrationTimeout)
	if code := <-done; code != 504 {
		t.Fatalf("status %d, want 504", code)
	}
}
