package websocket

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseConnectionsPath(t *testing.T) {
	tests := []struct {
		name, path string
		wantID     string
		wantOK     bool
		wantErr    bool
	}{
		{name: "plain", path: "/@connections/abc", wantID: "abc", wantOK: true},
		{name: "escaped at (SDK)", path: "/%40connections/L0S%3D", wantID: "L0S=", wantOK: true},
		{name: "lower-case escape", path: "/%40connections/a%2Bb%2Fc", wantID: "a+b/c", wantOK: true},
		{name: "double slash", path: "//@connections/x", wantID: "x", wantOK: true},
		{name: "escaped once only", path: "/@connections/a%253D", wantID: "a%3D", wantOK: true},
		{name: "not connections", path: "/chat", wantOK: false},
		{name: "root", path: "/", wantOK: false},
		{name: "no id", path: "/@connections/", wantOK: true, wantErr: true},
		{name: "no slash", path: "/@connections", wantOK: true, wantErr: true},
		{name: "two segments", path: "/@connections/a/b", wantOK: true, wantErr: true},
		{name: "bad escape", path: "/@connections/%zz", wantOK: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, err := ParseConnectionsPath(tt.path)
			if ok != tt.wantOK || (err != nil) != tt.wantErr || (!tt.wantErr && id != tt.wantID) {
				t.Errorf("ParseConnectionsPath(%q) = %q, %v, %v; want %q, %v, error %v", tt.path, id, ok, err, tt.wantID, tt.wantOK, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadConnectionsPath) {
				t.Errorf("error %v does not wrap ErrBadConnectionsPath", err)
			}
		})
	}
}

func FuzzConnectionsPath(f *testing.F) {
	f.Add("/%40connections/L0S%3D")
	f.Add("//@connections/a")
	f.Add("/@connections/%")
	f.Fuzz(func(t *testing.T, path string) {
		id, ok, err := ParseConnectionsPath(path)
		if !ok || err != nil {
			return
		}
		// An id round-trips through the escaping the SDKs use.
		again, ok2, err2 := ParseConnectionsPath("/%40connections/" + url.PathEscape(id))
		if !ok2 || err2 != nil || again != id {
			t.Fatalf("id %q does not round-trip: %q, %v, %v", id, again, ok2, err2)
		}
		if strings.Contains(id, "\x00") && len(id) > 128 {
			t.Fatalf("id too long")
		}
	})
}
