package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/reqctx"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newTestKeys(t *testing.T) (*Keys, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(t0)
	k, err := NewKeys(NewMemoryKeyStore(), WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	return k, clk
}

func TestKeysLifecycle(t *testing.T) {
	ctx := context.Background()
	keys, clk := newTestKeys(t)
	k, value, err := keys.Create(ctx, "partner-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(value) != 40 || validKeyValue(value) != nil {
		t.Fatalf("generated value %q: want 40 alphanumerics", value)
	}
	if k.Hash != HashKey(value) || !k.Enabled || k.Name != "partner-a" || len(k.ID) != 10 || !k.CreatedAt.Equal(t0) {
		t.Fatalf("created key = %+v", k)
	}
	if got, err := keys.Check(ctx, value); err != nil || got.ID != k.ID {
		t.Fatalf("Check(new value) = %+v, %v; want key %s", got, err, k.ID)
	}
	if got, err := keys.Get(ctx, k.ID); err != nil || got != k {
		t.Fatalf("Get = %+v, %v", got, err)
	}

	clk.Advance(time.Minute)
	if _, err := keys.Disable(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Check(ctx, value); !errors.Is(err, ErrAPIKeyDisabled) {
		t.Fatalf("Check(disabled) err = %v, want ErrAPIKeyDisabled", err)
	}
	if got, _ := keys.Enable(ctx, k.ID); !got.Enabled || !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Enable = %+v", got)
	}

	rotated, newValue, err := keys.Rotate(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.ID != k.ID || newValue == value {
		t.Fatalf("Rotate kept id %s → %s, value changed %v", k.ID, rotated.ID, newValue != value)
	}
	if _, err := keys.Check(ctx, value); !errors.Is(err, ErrUnknownAPIKey) {
		t.Fatalf("old value after rotate: err = %v, want ErrUnknownAPIKey", err)
	}
	if got, err := keys.Check(ctx, newValue); err != nil || got.ID != k.ID {
		t.Fatalf("new value after rotate: %+v, %v", got, err)
	}

	if err := keys.Delete(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Check(ctx, newValue); !errors.Is(err, ErrUnknownAPIKey) {
		t.Fatalf("Check after delete: err = %v", err)
	}
	if _, err := keys.Get(ctx, k.ID); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Get after delete: err = %v", err)
	}
	if err := keys.Delete(ctx, k.ID); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("second Delete: err = %v", err)
	}
}

func TestKeysImportAndValidation(t *testing.T) {
	ctx := context.Background()
	keys, _ := newTestKeys(t)
	good := "abcdefghijABCDEFGHIJ0123"
	if _, err := keys.Import(ctx, "a", good); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value string
		want  error
	}{
		{name: "duplicate value", value: good, want: ErrKeyExists},
		{name: "too short", value: strings.Repeat("a", 19)},
		{name: "too long", value: strings.Repeat("a", 129)},
		{name: "punctuation", value: strings.Repeat("a", 20) + "-"},
		{name: "space", value: strings.Repeat("a", 20) + " b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keys.Import(ctx, "b", tt.value)
			if err == nil {
				t.Fatal("Import accepted it")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.value) {
				t.Fatalf("error %q repeats the key value", err)
			}
		})
	}
	if _, err := NewKeys(NewMemoryKeyStore(), WithKeyLength(19)); err == nil {
		t.Fatal("WithKeyLength(19) accepted")
	}
	if _, err := NewKeys(nil); err == nil {
		t.Fatal("nil store accepted")
	}
	if _, err := NewKeys(NewMemoryKeyStore(), WithRegion("x")); err == nil || !strings.Contains(err.Error(), "WithRegion") {
		t.Fatalf("NewKeys(WithRegion) err = %v, want it named", err)
	}
}

func TestKeysCheckErrors(t *testing.T) {
	ctx := context.Background()
	keys, _ := newTestKeys(t)
	tests := []struct {
		name  string
		value string
		want  error
	}{
		{name: "empty", value: "", want: ErrMissingAPIKey},
		{name: "unknown", value: strings.Repeat("x", 30), want: ErrUnknownAPIKey},
		{name: "short", value: "abc", want: ErrUnknownAPIKey},
		{name: "oversized", value: strings.Repeat("x", 10000), want: ErrUnknownAPIKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := keys.Check(ctx, tt.value); !errors.Is(err, tt.want) {
				t.Fatalf("Check err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKeysHandler(t *testing.T) {
	ctx := context.Background()
	keys, _ := newTestKeys(t)
	k, value, _ := keys.Create(ctx, "a")
	disabled, dvalue, _ := keys.Create(ctx, "b")
	if _, err := keys.Disable(ctx, disabled.ID); err != nil {
		t.Fatal(err)
	}
	var seen *reqctx.Context
	h := keys.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = reqctx.From(r.Context())
	}))
	tests := []struct {
		name     string
		header   []string
		wantCode int
	}{
		{name: "valid", header: []string{value}, wantCode: 200},
		{name: "missing", wantCode: 403},
		{name: "unknown", header: []string{strings.Repeat("z", 40)}, wantCode: 403},
		{name: "disabled", header: []string{dvalue}, wantCode: 403},
		{name: "two headers", header: []string{value, value}, wantCode: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			r := httptest.NewRequest("GET", "/", nil)
			r.Header[APIKeyHeader] = tt.header
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode == 403 {
				if got := rec.Header().Get("X-Amzn-Errortype"); got != "ForbiddenException" || !strings.Contains(rec.Body.String(), `"Forbidden"`) {
					t.Fatalf("403 type %q body %s, want INVALID_API_KEY's", got, rec.Body)
				}
				return
			}
			if seen == nil || seen.APIKeyID != k.ID || seen.Identity.APIKeyID != k.ID || seen.APIKey != value {
				t.Fatalf("request context = %+v, want key id %s", seen, k.ID)
			}
		})
	}
}

// failingKeyStore fails every lookup, as an unreachable Redis would.
type failingKeyStore struct{ *MemoryKeyStore }

func (*failingKeyStore) KeyByHash(context.Context, KeyHash) (APIKey, error) {
	return APIKey{}, errors.New("connection refused")
}

func TestKeysStoreDownFailsClosed(t *testing.T) {
	keys, err := NewKeys(&failingKeyStore{NewMemoryKeyStore()})
	if err != nil {
		t.Fatal(err)
	}
	a := &Access{APIKeys: keys}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set(APIKeyHeader, strings.Repeat("k", 30))
	err = a.Check(r)
	if e := reqctx.AsError(err); e == nil || e.Type != reqctx.ServiceUnavailable {
		t.Fatalf("Check with the store down = %v, want SERVICE_UNAVAILABLE", err)
	}
}

func TestKeyCheckDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	keys, _ := newTestKeys(t)
	_, value, _ := keys.Create(ctx, "a")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := keys.Check(ctx, value); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Keys.Check allocates %.1f times per call, want 0", allocs)
	}
}

func TestHashKeyLongValue(t *testing.T) {
	long := strings.Repeat("a", 300)
	if HashKey(long) == HashKey(long[:128]) {
		t.Fatal("HashKey truncates long values")
	}
	if got := HashKey("abc").String(); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashKey(abc) = %s, want the SHA-256 of abc", got)
	}
}
