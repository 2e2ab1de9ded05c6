// Command bareproxy is the load harness's baseline: a bare
// httputil.ReverseProxy (Rewrite with SetURL and SetXForwarded) in front of
// the backend. Only its transport is tuned, to keep as many idle
// connections per backend as Portico's does; with the default two, it would
// spend the run opening connections. Bare, it allocates a 32 KB copy
// buffer per request; -bufferpool lends it pooled buffers, as Portico does.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9102", "listen address")
	backend := flag.String("backend", "http://127.0.0.1:9101", "backend URL")
	pooled := flag.Bool("bufferpool", false, "lend the proxy pooled copy buffers")
	flag.Parse()
	u, err := url.Parse(*backend)
	if err != nil {
		log.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		ErrorLog: log.New(io.Discard, "", 0), // wrk closing its connections is not news
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	if *pooled {
		rp.BufferPool = &bufferPool{}
	}
	srv := &http.Server{Addr: *addr, Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// bufferPool lends 32 KB buffers to the proxy's body copies.
type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
