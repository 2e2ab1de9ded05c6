package reqctx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFromWith(t *testing.T) {
	if From(context.Background()) != nil {
		t.Fatal("From(empty) != nil")
	}
	rc := &Context{RequestID: "r1"}
	if got := From(With(context.Background(), rc)); got != rc {
		t.Fatalf("From(With(rc)) = %p, want %p", got, rc)
	}
}

func TestAsError(t *testing.T) {
	throttled := NewError(Throttled, nil)
	tests := []struct {
		name string
		err  error
		want ResponseType
	}{
		{name: "typed", err: throttled, want: Throttled},
		{name: "wrapped typed", err: fmt.Errorf("step: %w", throttled), want: Throttled},
		{name: "max bytes", err: fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), want: RequestTooLarge},
		{name: "other", err: errors.New("boom"), want: Default5XX},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AsError(tt.err).Type; got != tt.want {
				t.Fatalf("AsError(%v).Type = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
	if AsError(nil) != nil {
		t.Fatal("AsError(nil) != nil")
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Type: InvalidAPIKey, Message: "key disabled", Err: errors.New("db says no")}
	if got, want := e.Error(), "INVALID_API_KEY: key disabled: db says no"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if e.ClientMessage() != "key disabled" || !errors.Is(e, e.Err) {
		t.Fatal("ClientMessage or Unwrap wrong")
	}
	if got := NewError(Unauthorized, nil).Error(); got != "UNAUTHORIZED: Unauthorized" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestResponseTypeDefaults(t *testing.T) {
	for _, typ := range ResponseTypes() {
		if !typ.Known() || typ.Status() < 400 || typ.Message() == "" || typ.ErrorType() == "" {
			t.Errorf("%s: status %d message %q errorType %q", typ, typ.Status(), typ.Message(), typ.ErrorType())
		}
		if d := typ.Default(); (typ.Status() < 500) != (d == Default4XX) {
			t.Errorf("%s: Default() = %s", typ, d)
		}
	}
	unknown := ResponseType("NOPE")
	if unknown.Known() || unknown.Status() != 500 || unknown.ErrorType() != "InternalServerErrorException" {
		t.Fatal("unknown type defaults wrong")
	}
}

func TestWriteError(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		rc := &Context{}
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(With(r.Context(), rc))
		rec := httptest.NewRecorder()
		e := NewError(Throttled, errors.New("secret"))
		e.Header = http.Header{"Retry-After": {"2"}}
		WriteError(rec, r, e)
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if rec.Code != 429 || body["message"] != "Too Many Requests" || rec.Header().Get("X-Amzn-Errortype") != "TooManyRequestsException" || rec.Header().Get("Retry-After") != "2" {
			t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
		}
		if rc.Error.Type != Throttled || rc.Error.Message != "Too Many Requests" {
			t.Fatalf("rc.Error = %+v", rc.Error)
		}
	})
	t.Run("installed writer", func(t *testing.T) {
		rc := &Context{}
		called := false
		rc.SetErrorWriter(func(w http.ResponseWriter, r *http.Request, err error) { called = true })
		r := httptest.NewRequest("GET", "/", nil)
		WriteError(httptest.NewRecorder(), r.WithContext(With(r.Context(), rc)), errors.New("x"))
		if !called {
			t.Fatal("installed error writer not used")
		}
	})
	t.Run("message is JSON-escaped", func(t *testing.T) {
		rec := httptest.NewRecorder()
		WriteDefaultError(rec, httptest.NewRequest("GET", "/", nil), &Error{Type: BadRequestBody, Message: "bad \"quote\" \x00 \xff"})
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q is not JSON: %v", rec.Body, err)
		}
	})
}

func TestCancel(t *testing.T) {
	var c Context
	if c.Cancel(errors.New("x")) {
		t.Error("Cancel without SetCancel reported true")
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	c.SetCancel(cancel)
	cause := errors.New("enough")
	if !c.Cancel(cause) {
		t.Error("Cancel after SetCancel reported false")
	}
	if got := context.Cause(ctx); got != cause {
		t.Errorf("cause = %v, want %v", got, cause)
	}
}
