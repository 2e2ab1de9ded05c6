package cache

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// captureWriter passes a response through to the client and keeps a copy of
// it for the cache while it stays cacheable: a status the rule caches, no
// Set-Cookie, no-store, private or unkeyed Vary, no trailers, not flushed
// before it was complete (unless it has a Content-Length), and a body within
// the size limit. Once it stops being cacheable it keeps nothing more, so a
// large or streamed response is never buffered beyond the limit.
type captureWriter struct {
	w   http.ResponseWriter
	h   *handler
	pre []string // header names set before the integration ran: per request

	wroteHeader bool
	ok          bool // still cacheable
	status      int
	header      http.Header // what the entry replays
	body        []byte
	declared    int64 // Content-Length, -1 if none
}

func (cw *captureWriter) Header() http.Header { return cw.w.Header() }

// Unwrap lets http.ResponseController reach the client's writer (for
// deadlines and hijacking; flushes go through [captureWriter.FlushError]).
func (cw *captureWriter) Unwrap() http.ResponseWriter { return cw.w }

func (cw *captureWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		cw.w.WriteHeader(code) // informational: not the response
		return
	}
	if cw.wroteHeader {
		cw.w.WriteHeader(code) // superfluous: let the server say so
		return
	}
	cw.wroteHeader = true
	cw.status = code
	cw.ok = cw.cacheable(code)
	cw.w.WriteHeader(code)
}

// cacheable decides, when the status is written, whether the response can be
// stored, and if so snapshots the headers to replay.
func (cw *captureWriter) cacheable(code int) bool {
	h := cw.h
	if !h.statuses.has(code) {
		return false
	}
	hdr := cw.w.Header()
	if len(hdr["Set-Cookie"]) > 0 || len(hdr["Trailer"]) > 0 {
		return false
	}
	cc := hdr["Cache-Control"]
	if headerHasToken(cc, "no-store") || headerHasToken(cc, "private") {
		return false
	}
	unkeyed := false
	for _, v := range hdr["Vary"] {
		eachDirective(v, func(name, _ string) bool {
			unkeyed = name == "*" || !h.keyer.keyedHeader(http.CanonicalHeaderKey(name))
			return !unkeyed
		})
	}
	if unkeyed {
		return false
	}
	cw.declared = -1
	if cl := hdr["Content-Length"]; len(cl) > 0 {
		n, err := strconv.ParseInt(cl[0], 10, 64)
		if err != nil || n < 0 || n > h.c.maxEntry {
			return false
		}
		cw.declared = n
	}
	out := make(http.Header, len(hdr))
	for k, vs := range hdr {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return false
		}
		if slices.Contains(cw.pre, k) || notReplayed(k) || k == h.c.statusHeader {
			continue
		}
		out[k] = slices.Clip(slices.Clone(vs))
	}
	cw.header = out
	if cw.declared > 0 {
		cw.body = make([]byte, 0, cw.declared)
	}
	return true
}

// notReplayed reports whether a (canonical) response header is hop-by-hop
// or belongs to one request, and so is never stored.
func notReplayed(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Connection",
		"Date", "Age",
		"X-Amzn-Requestid", "Apigw-Requestid", "X-Amzn-Trace-Id", "X-Amz-Apigw-Id", "X-Amz-Cf-Id", "X-Request-Id":
		return true
	}
	return false
}

func (cw *captureWriter) Write(p []byte) (int, error) {
	if !cw.wroteHeader {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.ok {
		if int64(len(cw.body)+len(p)) > cw.h.c.maxEntry {
			cw.stop()
		} else {
			cw.body = append(cw.body, p...)
		}
	}
	return cw.w.Write(p)
}

// stop gives up caching this response and drops what was kept.
func (cw *captureWriter) stop() {
	cw.ok = false
	cw.body = nil
	cw.header = nil
}

// FlushError sends what was written so far. A response flushed before it is
// complete and without a Content-Length is a stream: it is not cached.
func (cw *captureWriter) FlushError() error {
	if !cw.wroteHeader {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.ok && cw.declared < 0 {
		cw.stop()
	}
	return http.NewResponseController(cw.w).Flush()
}

// Flush implements http.Flusher.
func (cw *captureWriter) Flush() { _ = cw.FlushError() }

// entry returns the response as an entry, or nil if it cannot be cached.
func (cw *captureWriter) entry() *Entry {
	if !cw.wroteHeader || !cw.ok {
		return nil
	}
	if cw.declared >= 0 && int64(len(cw.body)) != cw.declared {
		return nil // short or long body: not a complete response
	}
	if cw.declared < 0 && cw.status != http.StatusNoContent && cw.status != http.StatusNotModified {
		cw.header["Content-Length"] = []string{strconv.Itoa(len(cw.body))}
	}
	return &Entry{Status: cw.status, Header: cw.header, Body: cw.body}
}
