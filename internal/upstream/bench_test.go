package upstream

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func BenchmarkPick(b *testing.B) {
	targets := []string{"http://t1", "http://t2", "http://t3", "http://t4", "http://t5", "http://t6", "http://t7", "http://t8"}
	for _, bb := range []struct {
		name string
		cfg  Config
	}{
		{"round-robin", Config{Balancer: RoundRobin}},
		{"least-outstanding", Config{Balancer: LeastOutstanding}},
		{"consistent-hash", Config{Balancer: ConsistentHash, HashHeader: "X-User"}},
		{"round-robin+breaker+outlier", Config{Balancer: RoundRobin, Breaker: &BreakerConfig{}, Outlier: &OutlierConfig{}}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			cfg := bb.cfg
			cfg.Targets, cfg.Logger = targets, quiet
			p, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			h := http.Header{"X-User": {"user-1234"}}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var now = p.Now()
					a, err := p.Pick(p.HashKey(h, "192.0.2.1"), nil, now)
					if err != nil {
						b.Error(err)
						return
					}
					p.Begin(a)
					p.End(a)
					p.Done(a, Succeeded, now)
				}
			})
		})
	}
}

type okTransport struct{}

func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
}

// BenchmarkRoundTripper is the per-attempt cost of a pool in front of a
// transport that answers at once.
func BenchmarkRoundTripper(b *testing.B) {
	p, err := New(Config{Targets: []string{"http://t1", "http://t2", "http://t3"}, Logger: quiet, Retry: &RetryConfig{}, Breaker: &BreakerConfig{}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	rt := &RoundTripper{Pool: p, Base: okTransport{}}
	req, _ := http.NewRequest("GET", "http://pool.invalid/x", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := rt.RoundTrip(req)
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
		}
	})
}
