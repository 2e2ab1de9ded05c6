// Command bareproxy is the load harness's baseline: a bare
// httputil.ReverseProxy in front of the backend, with the same transport
// tuning Portico uses.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9102", "listen address")
	backend := flag.String("backend", "http://127.0.0.1:9101", "backend URL")
	flag.Parse()
	u, err := url.Parse(*backend)
	if err != nil {
		log.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // wrk closing its connections is not news
	rp.Transport = &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	log.Fatal(http.ListenAndServe(*addr, rp))
}
