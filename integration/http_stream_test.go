package integration

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
)

// patternBlock is what patternReader repeats.
var patternBlock = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}()

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ left, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n := 0
	for n < len(b) {
		c := copy(b[n:], patternBlock[int(p.off)%len(patternBlock):])
		n += c
		p.off += int64(c)
	}
	p.left -= int64(n)
	return n, nil
}

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return kb << 10
		}
	}
	t.Skipf("no %s in /proc/self/status", field)
	return 0
}

// streamSize is how much TestHTTPProxyStreamsLargeBodies moves each way: 1
// GB with PORTICO_BIG=1, else 64 MB (16 MB with -short).
func streamSize() int64 {
	switch {
	case os.Getenv("PORTICO_BIG") == "1":
		return 1 << 30
	case testing.Short():
		return 16 << 20
	}
	return 64 << 20
}

// TestHTTPProxyStreamsLargeBodies streams an upload and a download through
// the proxy over real connections, and checks that the process's peak
// resident memory grows by far less than the bodies: neither is buffered.
// PORTICO_BIG=1 makes the bodies 1 GB each.
func TestHTTPProxyStreamsLargeBodies(t *testing.T) {
	size := streamSize()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %x %v", n, h.Sum(nil), err)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		_, _ = io.Copy(w, &patternReader{left: size})
	}))
	defer be.Close()
	p := &HTTPProxy{Target: be.URL + "/blob"}
	front := httptest.NewServer(p)
	defer front.Close()
	want := sha256.New()
	_, _ = io.Copy(want, &patternReader{left: size})

	// Peak RSS from here on: reset the high-water mark where the kernel
	// allows it (Linux ≥ 4.0), else measure from the current peak.
	base := procStatus(t, "VmHWM")
	if os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil {
		base = procStatus(t, "VmRSS")
	}

	res, err := front.Client().Post(front.URL, "application/octet-stream", io.NopCloser(&patternReader{left: size}))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if got := fmt.Sprintf("%d %x <nil>", size, want.Sum(nil)); string(body) != got {
		t.Fatalf("upload: backend saw %q, want %q", body, got)
	}
	res, err = front.Client().Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, res.Body)
	res.Body.Close()
	if err != nil || n != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatalf("download: %d bytes, %v", n, err)
	}
	growth := procStatus(t, "VmHWM") - base
	t.Logf("streamed %d MB each way; peak RSS grew by %.1f MB", size>>20, float64(growth)/(1<<20))
	if limit := int64(48 << 20); growth > limit {
		t.Fatalf("peak RSS grew by %d MB streaming %d MB each way (limit %d MB): bodies are being buffered", growth>>20, size>>20, limit>>20)
	}
}

// BenchmarkHTTPProxyStream measures streaming throughput through the proxy
// over loopback: 8 MB downloads.
func BenchmarkHTTPProxyStream(b *testing.B) {
	const size = 8 << 20
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = io.Copy(w, &patternReader{left: size})
	}))
	defer be.Close()
	front := httptest.NewServer(&HTTPProxy{Target: be.URL + "/"})
	defer front.Close()
	client := front.Client()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		res, err := client.Get(front.URL)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, res.Body); err != nil || n != size {
			b.Fatalf("%d %v", n, err)
		}
		res.Body.Close()
	}
}
