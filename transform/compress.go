package transform

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// MaxCompressionSize is the largest minimum compression size the model
// gateway accepts (10 MB).
const MaxCompressionSize = 10 << 20

// Compress returns middleware that compresses responses of at least
// minSize bytes (0 compresses all) with zstd, br (brotli), gzip or
// deflate, whichever the request's Accept-Encoding prefers (in that order
// on a tie; "*" alone means gzip; q=0 refuses an encoding). Responses that already have a Content-Encoding, HEAD
// responses, 1xx/204/304 responses and upgrades pass untouched; every
// response gets Vary: Accept-Encoding. The response is held in memory
// until minSize bytes are known, then streamed through the compressor.
// minSize outside 0–10,485,760 is an error. The middleware is safe for
// concurrent use.
func Compress(minSize int) (func(http.Handler) http.Handler, error) {
	if minSize < 0 || minSize > MaxCompressionSize {
		return nil, fmt.Errorf("transform: minimum compression size %d is outside 0-%d", minSize, MaxCompressionSize)
	}
	pools := &writerPools{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			enc := negotiate(r.Header.Values("Accept-Encoding"))
			w.Header().Add("Vary", "Accept-Encoding")
			if enc == "" || r.Method == http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			cw := &compressWriter{w: w, enc: enc, min: minSize, pools: pools}
			defer cw.close()
			next.ServeHTTP(cw, r)
		})
	}, nil
}

// negotiate picks an encoding from Accept-Encoding values; "" for none.
func negotiate(values []string) string {
	best, bestQ := "", 0.0
	star := -1.0
	q := map[string]float64{}
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			name = strings.ToLower(strings.TrimSpace(name))
			qv := 1.0
			if p, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
				if err != nil {
					continue
				}
				qv = f
			}
			if name == "*" {
				star = qv
				continue
			}
			q[name] = qv
		}
	}
	// The best explicitly accepted encoding, on a tie the one that
	// compresses best for its cost …
	for _, enc := range [...]string{"zstd", "br", "gzip", "deflate"} {
		if qv, ok := q[enc]; ok && qv > bestQ {
			best, bestQ = enc, qv
		}
	}
	// … unless "*" is preferred to all of them: then the most widely
	// understood encoding not listed.
	if star > bestQ {
		for _, enc := range [...]string{"gzip", "deflate", "br", "zstd"} {
			if _, listed := q[enc]; !listed {
				return enc
			}
		}
	}
	return best
}

// writerPools recycles compressors between the responses of one
// middleware.
type writerPools struct {
	gzip  sync.Pool // *gzip.Writer
	flate sync.Pool // *flate.Writer
	br    sync.Pool // *brotli.Writer
	zstd  sync.Pool // *zstd.Encoder
}

// brotliLevel is a middle brotli quality: about gzip's speed for smaller
// output. zstdWindow bounds the zstd window (and an encoder's memory) well
// under the 8 MB that HTTP's zstd content coding allows decoders to
// require (RFC 9659).
const (
	brotliLevel = 5
	zstdWindow  = 1 << 20
)

// compressWriter holds the start of a response until it knows whether to
// compress it.
type compressWriter struct {
	w       http.ResponseWriter
	enc     string
	min     int
	status  int
	buf     []byte
	decided bool
	zw      io.WriteCloser
	err     error
	pools   *writerPools
}

func (c *compressWriter) Header() http.Header { return c.w.Header() }

func (c *compressWriter) WriteHeader(code int) {
	if c.status != 0 || c.decided {
		return
	}
	if code < 200 {
		c.w.WriteHeader(code)
		return
	}
	c.status = code
	if code == http.StatusNoContent || code == http.StatusNotModified || code == http.StatusSwitchingProtocols {
		c.passThrough()
	}
}

func (c *compressWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.decided {
		if c.zw != nil {
			return c.zw.Write(p)
		}
		return c.w.Write(p)
	}
	c.buf = append(c.buf, p...)
	if cl := c.w.Header().Get("Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err == nil && n < c.min {
			if len(c.buf) >= n {
				c.passThrough()
			}
			return len(p), c.err
		}
	}
	if len(c.buf) >= c.min && len(c.buf) > 0 {
		c.startCompressing()
	}
	return len(p), c.err
}

// passThrough sends the held bytes as they are and stops holding.
func (c *compressWriter) passThrough() {
	c.decided = true
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.w.WriteHeader(c.status)
	if len(c.buf) > 0 {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = nil
}

func (c *compressWriter) startCompressing() {
	h := c.w.Header()
	if h.Get("Content-Encoding") != "" || strings.Contains(h.Get("Cache-Control"), "no-transform") {
		c.passThrough()
		return
	}
	c.decided = true
	h.Set("Content-Encoding", c.enc)
	h.Del("Content-Length")
	h.Del("Accept-Ranges")
	if etag := h.Get("Etag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		h.Set("Etag", "W/"+etag)
	}
	c.w.WriteHeader(c.status)
	switch c.enc {
	case "gzip":
		zw, _ := c.pools.gzip.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(c.w)
		} else {
			zw.Reset(c.w)
		}
		c.zw = zw
	case "br":
		zw, _ := c.pools.br.Get().(*brotli.Writer)
		if zw == nil {
			zw = brotli.NewWriterLevel(c.w, brotliLevel)
		} else {
			zw.Reset(c.w)
		}
		c.zw = zw
	case "zstd":
		zw, _ := c.pools.zstd.Get().(*zstd.Encoder)
		if zw == nil {
			var err error
			// One goroutine-free encoder per response.
			zw, err = zstd.NewWriter(c.w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(zstdWindow), zstd.WithLowerEncoderMem(true))
			if err != nil {
				c.err = err
				return
			}
		} else {
			zw.Reset(c.w)
		}
		c.zw = zw
	default:
		zw, _ := c.pools.flate.Get().(*flate.Writer)
		if zw == nil {
			zw, _ = flate.NewWriter(c.w, flate.DefaultCompression)
		} else {
			zw.Reset(c.w)
		}
		c.zw = zw
	}
	_, c.err = c.zw.Write(c.buf)
	c.buf = nil
}

// close finishes the response: a response shorter than the minimum goes
// out as it is.
func (c *compressWriter) close() {
	if !c.decided {
		if c.status == 0 && len(c.buf) == 0 {
			return // nothing written: net/http sends its own 200
		}
		c.passThrough()
		return
	}
	if c.zw == nil {
		return
	}
	_ = c.zw.Close()
	switch zw := c.zw.(type) {
	case *gzip.Writer:
		c.pools.gzip.Put(zw)
	case *flate.Writer:
		c.pools.flate.Put(zw)
	case *brotli.Writer:
		c.pools.br.Put(zw)
	case *zstd.Encoder:
		c.pools.zstd.Put(zw)
	}
	c.zw = nil
}

// Flush sends what is held: compressed if the minimum is reached, as it is
// otherwise.
func (c *compressWriter) Flush() {
	if !c.decided {
		if len(c.buf) >= c.min && len(c.buf) > 0 {
			c.startCompressing()
		} else {
			c.passThrough()
		}
	}
	if f, ok := c.zw.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	_ = http.NewResponseController(c.w).Flush()
}

// Hijack lets an upgrade take the connection if nothing was written.
func (c *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if c.decided || len(c.buf) > 0 {
		return nil, nil, errors.New("transform: cannot hijack a response already written")
	}
	c.decided = true
	return http.NewResponseController(c.w).Hijack()
}

// Unwrap returns the underlying writer.
func (c *compressWriter) Unwrap() http.ResponseWriter { return c.w }
