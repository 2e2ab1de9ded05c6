package transform

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/portico-gw/portico/reqctx"
)

// bufferWriter holds a handler's response in memory, up to max bytes, so
// that it can be validated or mapped before it is sent.
//
// A gateway error response written by an inner step (a timeout, an
// integration failure: one that sets the request context's error type) is
// not the integration's response: it is sent as it is, at once when it is
// flushed (the integration timeout flushes its 504 while the integration
// may still run).
type bufferWriter struct {
	w      http.ResponseWriter
	header http.Header
	status int
	body   []byte
	max    int64
	err    error // the body went over max

	rc        *reqctx.Context
	errBefore reqctx.ResponseType
	sent      bool // a gateway error went out
}

func newBufferWriter(w http.ResponseWriter, max int64, rc *reqctx.Context) *bufferWriter {
	b := &bufferWriter{w: w, header: make(http.Header), max: max, rc: rc}
	if rc != nil {
		b.errBefore = rc.Error.Type
	}
	return b
}

// gatewayError reports whether an inner step answered with a gateway error.
func (b *bufferWriter) gatewayError() bool {
	return b.rc != nil && b.rc.Error.Type != "" && b.rc.Error.Type != b.errBefore
}

// passedThrough sends a gateway error response if the inner steps wrote
// one, and reports whether the response is out.
func (b *bufferWriter) passedThrough() bool {
	if !b.sent && b.gatewayError() {
		b.flushTo(b.w)
		b.sent = true
	}
	return b.sent
}

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(code int) {
	if b.status != 0 || code < 200 || b.sent {
		return
	}
	b.status = code
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.sent {
		return 0, http.ErrHandlerTimeout
	}
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(b.body)+len(p)) > b.max {
		b.err = fmt.Errorf("integration response over the limit of %d bytes", b.max)
		return 0, b.err
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

// Flush sends a gateway error response at once; anything else is sent
// once it is complete.
func (b *bufferWriter) Flush() { b.passedThrough() }

// Unwrap returns the writer the response is finally sent to.
func (b *bufferWriter) Unwrap() http.ResponseWriter { return b.w }

func (b *bufferWriter) statusOr200() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

// flushTo sends the buffered response.
func (b *bufferWriter) flushTo(w http.ResponseWriter) {
	writeResponse(w, b.header, b.statusOr200(), b.body)
}

// writeResponse sends a complete response: the headers of h over w's,
// Content-Length, the status and the body.
func writeResponse(w http.ResponseWriter, h http.Header, status int, body []byte) {
	dst := w.Header()
	for k, v := range h {
		dst[k] = v
	}
	dst.Del("Transfer-Encoding")
	if status == http.StatusNoContent || status == http.StatusNotModified {
		dst.Del("Content-Length")
		w.WriteHeader(status)
		return
	}
	dst.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
