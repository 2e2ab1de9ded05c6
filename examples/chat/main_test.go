package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/porticotest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestChat connects the way the command's comment shows: two members chat,
// a bad token is refused before the upgrade, a backend posts to one member
// through @connections with SigV4, and leaving is announced.
func TestChat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now().UTC() // SigV4 below signs with this time
	gw, err := newGateway(portico.WithClock(porticotest.NewClock(start)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	defer gw.Shutdown(context.Background())
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/prod"

	dial := func(name, token string) (*cws.Conn, string) {
		t.Helper()
		c, resp, err := cws.Dial(ctx, ws+"?name="+name+"&token="+token, nil)
		if err != nil {
			if resp != nil {
				return nil, resp.Status
			}
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.CloseNow() })
		// Any message gets help back, with the connection id.
		if err := c.Write(ctx, cws.MessageText, []byte(`{"action":"help"}`)); err != nil {
			t.Fatal(err)
		}
		var help map[string]string
		readJSON(t, ctx, c, &help)
		return c, help["connectionId"]
	}
	read := func(c *cws.Conn) map[string]string {
		t.Helper()
		var m map[string]string
		readJSON(t, ctx, c, &m)
		return m
	}
	if _, status := dial("eve", "nope"); !strings.HasPrefix(status, "401") {
		t.Errorf("bad token: %s, want 401", status)
	}
	alice, _ := dial("alice", demoToken)
	bob, bobID := dial("bob", demoToken)
	if err := alice.Write(ctx, cws.MessageText, []byte(`{"action":"sendmessage","text":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*cws.Conn{alice, bob} {
		if m := read(c); m["from"] != "alice" || m["text"] != "hello" {
			t.Errorf("broadcast = %v", m)
		}
	}

	r, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/prod/%40connections/"+url.PathEscape(bobID), strings.NewReader(`{"from":"ops","text":"psst"}`))
	porticotest.SignRequest(t, r, porticotest.SigV4Credentials{AccessKeyID: demoAccessKey, SecretAccessKey: demoSecret}, "us-east-1", start)
	res, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("@connections POST = %d", res.StatusCode)
	}
	if m := read(bob); m["text"] != "psst" {
		t.Errorf("bob got %v, want the backend's message", m)
	}

	if err := alice.Close(cws.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	if m := read(bob); m["left"] != "alice" {
		t.Errorf("bob got %v, want alice's leaving", m)
	}
	_ = bob.Close(cws.StatusNormalClosure, "bye")
}

func readJSON(t *testing.T, ctx context.Context, c *cws.Conn, v any) {
	t.Helper()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}
