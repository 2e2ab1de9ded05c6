package cache

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestEntryRoundTrip(t *testing.T) {
	exp := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name string
		e    Entry
	}{
		{"minimal", Entry{Status: 204}},
		{"headers and body", Entry{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}, "X-Multi": {"a", "", "c"}}, Body: []byte("hello"), Expires: exp}},
		{"encrypted binary", Entry{Status: 599, Body: []byte{0, 1, 2, 0xff}, Encrypted: true, Expires: exp}},
		{"empty header value list", Entry{Status: 200, Header: http.Header{"X-Empty": {}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.e.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var got Entry
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if got.Status != tt.e.Status || !bytes.Equal(got.Body, tt.e.Body) || got.Encrypted != tt.e.Encrypted || !got.Expires.Equal(tt.e.Expires) {
				t.Fatalf("round trip = %+v, want %+v", got, tt.e)
			}
			if len(got.Header) != len(tt.e.Header) || len(got.Header) > 0 && !reflect.DeepEqual(got.Header, tt.e.Header) {
				t.Fatalf("header = %#v, want %#v", got.Header, tt.e.Header)
			}
			for k, vs := range got.Header {
				if cap(vs) != len(vs) {
					t.Errorf("header %s has spare capacity %d > %d: appends would write into the entry", k, cap(vs), len(vs))
				}
			}
			// Decoding copies: scribbling on the input changes nothing.
			for i := range b {
				b[i] = 'X'
			}
			if !bytes.Equal(got.Body, tt.e.Body) {
				t.Fatalf("body changed with the input buffer: %q", got.Body)
			}
		})
	}
}

func TestEntryMarshalRejectsBadStatus(t *testing.T) {
	for _, status := range []int{0, 99, 1000, -1} {
		if _, err := (&Entry{Status: status}).MarshalBinary(); err == nil {
			t.Errorf("MarshalBinary with status %d: no error", status)
		}
	}
}

func TestEntryUnmarshalErrors(t *testing.T) {
	good, _ := (&Entry{Status: 200, Header: http.Header{"A": {"b"}}, Body: []byte("x")}).MarshalBinary()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", []byte("XX\x01\x00")},
		{"unknown version", []byte("PC\x02\x00")},
		{"unknown flag", []byte("PC\x01\x80")},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"huge count", []byte("PC\x01\x00\xc8\x01\x00\xff\xff\xff\xff\x0f")},
		{"bad status", []byte("PC\x01\x00\x05\x00\x00\x00")},
		{"empty header name", []byte("PC\x01\x00\xc8\x01\x00\x01\x00\x00\x00")},
		{"duplicate header", []byte("PC\x01\x00\xc8\x01\x00\x02\x01A\x00\x01A\x00\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entry{Status: 418}
			err := e.UnmarshalBinary(tt.data)
			if !errors.Is(err, ErrBadEntry) {
				t.Fatalf("UnmarshalBinary(%q) = %v, want ErrBadEntry", tt.data, err)
			}
			if e.Status != 418 {
				t.Fatalf("entry changed on error: %+v", e)
			}
		})
	}
}

// FuzzEntryUnmarshal checks that decoding never panics and that whatever
// decodes survives a round trip: encoding it and decoding again gives the
// same entry, and the encoding is stable.
func FuzzEntryUnmarshal(f *testing.F) {
	seeds := []Entry{
		{Status: 200},
		{Status: 200, Header: http.Header{"Content-Type": {"application/json"}, "X-A": {"1", "2"}}, Body: []byte(`{"a":1}`), Expires: time.Unix(1700000000, 5)},
		{Status: 404, Body: []byte{0, 1}, Encrypted: true},
	}
	for _, e := range seeds {
		b, err := e.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("PC\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Entry
		if err := e.UnmarshalBinary(data); err != nil {
			return
		}
		b1, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		var e2 Entry
		if err := e2.UnmarshalBinary(b1); err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if e2.Status != e.Status || e2.Encrypted != e.Encrypted || !e2.Expires.Equal(e.Expires) || !bytes.Equal(e2.Body, e.Body) || !reflect.DeepEqual(e2.Header, e.Header) {
			t.Fatalf("round trip changed the entry: %+v -> %+v", e, e2)
		}
		b2, _ := e2.MarshalBinary()
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable:\n%q\n%q", b1, b2)
		}
	})
}
