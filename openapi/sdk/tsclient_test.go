package sdk_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/npmtest"
	"github.com/portico-gw/portico/openapi/sdk"
)

// nodeDir returns node and the npm test tools' directory, installed.
func nodeDir(t *testing.T) (node, dir string) {
	t.Helper()
	return npmtest.Dir(t, filepath.Join("testdata", "npm"), "the TypeScript client test")
}

// tsc runs the pinned TypeScript compiler with node in dir.
func tsc(t *testing.T, ctx context.Context, node, npmDir, dir string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(npmDir, "node_modules", "typescript", "bin", "tsc")}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc %v: %v\n%s", args, err, out)
	}
}

// tsCall is a node program calling the compiled pet store client against
// the stage at PETSTORE_URL and printing what it got as JSON.
const tsCall = `import { createHash, createHmac } from "node:crypto";
import { Client, APIError } from "./client.js";

// sigv4 is a small AWS Signature Version 4 signer for execute-api, as a
// user would plug in through ClientOptions.signer.
function sigv4(accessKeyId, secretAccessKey, region) {
  const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return (req) => {
    const u = new URL(req.url);
    const now = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
    const date = now.slice(0, 8);
    // The path as sent is encoded once; the canonical URI encodes it again.
    const path = u.pathname.split("/").map(enc).join("/");
    const query = [...u.searchParams].map(([k, v]) => [enc(k), enc(v)])
      .sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1])).map(([k, v]) => k + "=" + v).join("&");
    const headers = { host: u.host, "x-amz-date": now };
    const names = Object.keys(headers).sort();
    const canonical = [req.method, path, query, names.map((n) => n + ":" + headers[n] + "\n").join(""), names.join(";"),
      createHash("sha256").update(req.body ?? "").digest("hex")].join("\n");
    const scope = date + "/" + region + "/execute-api/aws4_request";
    const toSign = ["AWS4-HMAC-SHA256", now, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
    let key = "AWS4" + secretAccessKey;
    for (const part of [date, region, "execute-api", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
    const signature = createHmac("sha256", key).update(toSign).digest("hex");
    return { "x-amz-date": now, authorization: "AWS4-HMAC-SHA256 Credential=" + accessKeyId + "/" + scope + ", SignedHeaders=" + names.join(";") + ", Signature=" + signature };
  };
}

const c = new Client(process.env.PETSTORE_URL, { apiKey: process.env.PETSTORE_KEY });
const out = {};
out.pet = await c.getPet({ id: "a b" });
out.list = await c.listPets({ limit: 2, tag: ["a", "b"], xTraceID: "t-1" });
out.created = await c.createPet({ body: { name: "Tom", status: "sold" } });
out.secret = (await c.getSecret()).secret;
const hooked = new Client(process.env.PETSTORE_URL, { signer: (req) => ({ "x-api-key": process.env.PETSTORE_KEY, "x-seen-url": req.url }) });
out.hookedSecret = (await hooked.getSecret()).secret;
const signed = new Client(process.env.PETSTORE_URL, { signer: sigv4("AKIDALICE", "alice-secret", "us-east-1") });
out.tags = await signed.putAdminPetsIDTags({ id: "L0S=ab+", body: { colour: "black" } });
const busy = await c.getBusy();
out.busyAttempts = busy.attempts;
try {
  await c.getPet({ id: "missing" });
} catch (e) {
  out.error = { isAPIError: e instanceof APIError, status: e.status, type: e.errorType, message: e.message };
}
console.log(JSON.stringify(out));
`

// TestTypeScriptClient compiles the pet store's TypeScript client with
// tsc --strict, then runs it with node against a Portico stage.
func TestTypeScriptClient(t *testing.T) {
	node, npmDir := nodeDir(t)
	src, err := sdk.TypeScript(loadDoc(t, "petstore.yaml"), sdk.TSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "client.ts"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	common := []string{"--strict", "--target", "es2022", "--module", "es2022", "--lib", "es2022,dom", "--noUnusedLocals", "--noImplicitReturns", "client.ts"}
	tsc(t, ctx, node, npmDir, dir, append([]string{"--noEmit"}, common...)...)

	// The other test documents' clients compile too.
	for _, name := range []string{"edge", "cycles"} {
		src, err := sdk.TypeScript(loadDoc(t, name+".yaml"), sdk.TSOptions{ClientName: "EdgeClient"})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".ts"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		tsc(t, ctx, node, npmDir, dir, append([]string{"--noEmit"}, append(common[:len(common)-1:len(common)-1], name+".ts")...)...)
	}

	// Run it: compile to JavaScript and call the stage.
	tsc(t, ctx, node, npmDir, dir, append([]string{"--outDir", "js"}, common...)...)
	files := map[string]string{"js/package.json": `{"type":"module"}`, "js/call.mjs": tsCall}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ps := newPetStage(t)
	cmd := exec.CommandContext(ctx, node, "call.mjs")
	cmd.Dir = filepath.Join(dir, "js")
	cmd.Env = append(os.Environ(), "PETSTORE_URL="+ps.url, "PETSTORE_KEY="+ps.apiKey)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node call.mjs: %v\n%s", err, out)
	}
	var got struct {
		Pet struct {
			ID, Name, Status string
		}
		List []struct {
			Name string
		}
		Created struct {
			ID, Status string
		}
		Secret       string
		HookedSecret string
		Tags         struct {
			ID, By string
			Tags   map[string]string
		}
		BusyAttempts int
		Error        struct {
			IsAPIError    bool
			Status        int
			Type, Message string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	if got.Pet.ID != "a b" || got.Pet.Name != "Rex" || got.Pet.Status != "available" {
		t.Errorf("getPet: %+v", got.Pet)
	}
	if len(got.List) != 1 || got.List[0].Name != "limit=2 tags=a,b trace=t-1" {
		t.Errorf("listPets: %+v", got.List)
	}
	if got.Created.ID != "42" || got.Created.Status != "sold" {
		t.Errorf("createPet: %+v", got.Created)
	}
	if got.Secret != "s3cr3t" || got.HookedSecret != "s3cr3t" || got.BusyAttempts != 2 {
		t.Errorf("getSecret %q, with the signer hook's headers %q, getBusy attempts %d", got.Secret, got.HookedSecret, got.BusyAttempts)
	}
	if got.Tags.ID != "L0S=ab+" || got.Tags.By != aliceARN || got.Tags.Tags["colour"] != "black" {
		t.Errorf("putAdminPetsIDTags signed through the signer hook: %+v", got.Tags)
	}
	if e := got.Error; !e.IsAPIError || e.Status != 404 || e.Type != "NotFoundException" || e.Message != "no pet missing" {
		t.Errorf("getPet missing: %+v", e)
	}
}
