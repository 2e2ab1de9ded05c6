package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"time"
)

// Transport defaults.
const (
	DefaultConnectTimeout        = 10 * time.Second
	DefaultResponseHeaderTimeout = 29 * time.Second
	DefaultMaxIdleConnsPerHost   = 256
	DefaultIdleConnTimeout       = 90 * time.Second
)

// TransportConfig describes the connections to backends. Zero fields take
// the defaults above; a negative timeout means none.
type TransportConfig struct {
	// ConnectTimeout bounds the TCP connect and the TLS handshake.
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers once the
	// request has been written.
	ResponseHeaderTimeout time.Duration

	RootCAs            *x509.CertPool
	Certificates       []tls.Certificate
	ServerName         string
	InsecureSkipVerify bool
	DisableHTTP2       bool

	MaxIdleConnsPerHost int
	MaxConnsPerHost     int
	IdleConnTimeout     time.Duration
}

// Transport is an [http.RoundTripper] tuned for proxying: large idle pools,
// no transparent compression, no environment proxy, HTTP/2 to TLS backends
// that offer it. Requests that ask for a protocol upgrade (WebSocket) go
// over HTTP/1.1, the only version that has upgrades. It is safe for
// concurrent use.
type Transport struct {
	main *http.Transport
	h1   *http.Transport // for upgrades when main may speak HTTP/2; nil otherwise
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport builds a transport from c.
func NewTransport(c TransportConfig) (*Transport, error) {
	if c.MaxIdleConnsPerHost < 0 || c.MaxConnsPerHost < 0 || c.IdleConnTimeout < 0 {
		return nil, errors.New("transport: negative pool setting")
	}
	connect := orDefault(c.ConnectTimeout, DefaultConnectTimeout)
	idle := c.MaxIdleConnsPerHost
	if idle == 0 {
		idle = DefaultMaxIdleConnsPerHost
	}
	idleTimeout := c.IdleConnTimeout
	if idleTimeout == 0 {
		idleTimeout = DefaultIdleConnTimeout
	}
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	build := func(http2 bool) *http.Transport {
		t := &http.Transport{
			Proxy:                 nil, // backends are reached directly, never through $HTTP_PROXY
			DialContext:           d.DialContext,
			MaxIdleConns:          0, // no pool-wide cap: MaxIdleConnsPerHost bounds each backend
			MaxIdleConnsPerHost:   idle,
			MaxConnsPerHost:       c.MaxConnsPerHost,
			IdleConnTimeout:       idleTimeout,
			TLSHandshakeTimeout:   connect,
			ResponseHeaderTimeout: orDefault(c.ResponseHeaderTimeout, DefaultResponseHeaderTimeout),
			ExpectContinueTimeout: time.Second,
			// A proxy passes bodies as they are: the client asked for (or
			// did not ask for) an encoding, and gets what the backend sent.
			DisableCompression: true,
			TLSClientConfig: &tls.Config{
				RootCAs:            c.RootCAs,
				Certificates:       c.Certificates,
				ServerName:         c.ServerName,
				InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // opt-in, documented as dangerous
				MinVersion:         tls.VersionTLS12,
			},
		}
		var p http.Protocols
		p.SetHTTP1(true)
		if http2 {
			p.SetHTTP2(true)
		} else {
			t.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		t.Protocols = &p
		return t
	}
	if c.DisableHTTP2 {
		return &Transport{main: build(false)}, nil
	}
	return &Transport{main: build(true), h1: build(false)}, nil
}

// orDefault returns d for 0, 0 (no limit) for a negative v, else v.
func orDefault(v, d time.Duration) time.Duration {
	switch {
	case v == 0:
		return d
	case v < 0:
		return 0
	}
	return v
}

// RoundTrip sends req over HTTP/1.1 if it asks for an upgrade, else over
// the main transport.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.h1 != nil && len(req.Header["Upgrade"]) > 0 {
		return t.h1.RoundTrip(req)
	}
	return t.main.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of t.
func (t *Transport) CloseIdleConnections() {
	t.main.CloseIdleConnections()
	if t.h1 != nil {
		t.h1.CloseIdleConnections()
	}
}
