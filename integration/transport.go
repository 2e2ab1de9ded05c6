package integration

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"
)

// Timeouts bound an HTTP integration's calls to its backend. A connect or
// response-header timeout, or the total, is answered with 504
// INTEGRATION_TIMEOUT; the gateway's integration timeout applies on top.
type Timeouts struct {
	// Connect bounds establishing the connection (TCP and TLS); 0 means 10 s.
	Connect time.Duration
	// ResponseHeader bounds the wait for the response headers once the
	// request is sent; 0 means no bound but the gateway's timeout.
	ResponseHeader time.Duration
	// Total bounds the whole exchange, body streaming included; 0 means no
	// bound but the gateway's timeout (which ends when the response starts).
	Total time.Duration
}

// TransportConfig configures the connections to backends. The zero value
// verifies backends against the system roots, pools up to 256 idle
// connections per host and speaks HTTP/2 to TLS backends that offer it.
type TransportConfig struct {
	// RootCAs verifies backend certificates; nil means the system roots.
	RootCAs *x509.CertPool
	// Certificates are client certificates presented to backends (mTLS).
	Certificates []tls.Certificate
	// ServerName overrides the name verified in backend certificates and
	// sent as SNI.
	ServerName string
	// InsecureSkipVerify turns off backend certificate verification. It is
	// dangerous: anyone on the path can impersonate the backend.
	InsecureSkipVerify bool
	// MaxIdleConnsPerHost caps idle connections kept per backend; 0 means 256.
	MaxIdleConnsPerHost int
	// IdleConnTimeout closes idle connections; 0 means 90 s.
	IdleConnTimeout time.Duration
	// DisableHTTP2 keeps TLS backends on HTTP/1.1.
	DisableHTTP2 bool
}

// newTransport builds a tuned transport.
func newTransport(c TransportConfig, t Timeouts) *http.Transport {
	connect := t.Connect
	if connect == 0 {
		connect = 10 * time.Second
	}
	idle := c.MaxIdleConnsPerHost
	if idle == 0 {
		idle = 256
	}
	idleTimeout := c.IdleConnTimeout
	if idleTimeout == 0 {
		idleTimeout = 90 * time.Second
	}
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil, // backends are reached directly, never through HTTP_PROXY
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     !c.DisableHTTP2,
		MaxIdleConns:          idle * 4,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       idleTimeout,
		TLSHandshakeTimeout:   connect,
		ResponseHeaderTimeout: t.ResponseHeader,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig: &tls.Config{
			RootCAs:            c.RootCAs,
			Certificates:       c.Certificates,
			ServerName:         c.ServerName,
			InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // documented as dangerous, off by default
			MinVersion:         tls.VersionTLS12,
		},
	}
	if c.DisableHTTP2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return tr
}
