package portico_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/internal/npmtest"
	"github.com/portico-gw/portico/porticotest"
)

// nodeDir returns node and the npm test tools' directory, installed.
func nodeDir(t *testing.T) (node, dir string) {
	t.Helper()
	return npmtest.Dir(t, filepath.Join("websocket", "testdata", "npm"), "the AWS SDK for JavaScript test")
}

// TestWebSocketAWSSDKForJavaScript drives @connections with the official
// @aws-sdk/client-apigatewaymanagementapi client (pinned in
// websocket/testdata/npm), unchanged: it signs with SigV4, sends the id
// percent-encoded after %40connections, and reads 410 as GoneException.
func TestWebSocketAWSSDKForJavaScript(t *testing.T) {
	node, dir := nodeDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The SDK signs with the real time, so the gateway's clock starts there.
	start := time.Now().UTC().Truncate(time.Millisecond)
	ts, _ := wsGateway(t, portico.WithClock(porticotest.NewClock(start)))
	c, _, err := cws.Dial(ctx, wsURL(ts, "/prod?token=good"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, cws.MessageText, []byte(`{"action":"whoami"}`)); err != nil {
		t.Fatal(err)
	}
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var who struct{ ConnectionID string }
	_ = json.Unmarshal(b, &who)
	run := func(step string) map[string]any {
		t.Helper()
		cmd := exec.CommandContext(ctx, node, "connections.mjs", step)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ENDPOINT="+ts.URL+"/prod", "CONNECTION_ID="+who.ConnectionID,
			"AWS_ACCESS_KEY_ID=AKIDADMIN", "AWS_SECRET_ACCESS_KEY=admin-secret")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node connections.mjs %s: %v\n%s", step, err, out)
		}
		var res map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("node connections.mjs %s printed %q: %v", step, out, err)
		}
		return res
	}
	if res := run("post"); res["ok"] != true {
		t.Fatalf("PostToConnection: %v", res)
	}
	for _, want := range []string{"hello from js", "second"} {
		if _, got, err := c.Read(ctx); err != nil || string(got) != want {
			t.Errorf("client read %q, %v; want %q", got, err, want)
		}
	}
	if res := run("get"); res["ok"] != true || res["connectedAt"] != start.Format("2006-01-02T15:04:05.000Z") || res["sourceIp"] != "127.0.0.1" {
		t.Errorf("GetConnection: %v", res)
	}
	go func() { _, _, _ = c.Read(ctx) }()
	if res := run("delete"); res["ok"] != true {
		t.Errorf("DeleteConnection: %v", res)
	}
	res := run("post-gone")
	for res["ok"] == true { // the DELETE closes asynchronously
		res = run("post-gone")
	}
	if res["name"] != "GoneException" || res["status"] != float64(410) {
		t.Errorf("PostToConnection to a gone connection: %v, want GoneException 410", res)
	}
}
