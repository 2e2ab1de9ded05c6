package websocket

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// The buffer sizes of a connection.
const (
	readBufferSize  = 1 << 10
	writeBufferSize = 2 << 10
)

// errFrameTooBig is what the connection's reader returns once a client
// frame over the limit is announced.
var errFrameTooBig = errors.New("websocket: frame too big")

// hijackWriter hands the WebSocket library a connection whose reads are
// watched by a [frameConn].
type hijackWriter struct {
	http.ResponseWriter
	maxFrame int64
	fc       *frameConn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the server has already buffered go through the frame watcher
	// too: take them out of brw, which then reads from the watcher.
	buffered, _ := brw.Reader.Peek(brw.Reader.Buffered())
	pre := bytes.Clone(buffered)
	_, _ = brw.Reader.Discard(len(buffered))
	h.fc = &frameConn{Conn: nc, r: io.MultiReader(bytes.NewReader(pre), nc), max: h.maxFrame}
	// Smaller buffers than net/http's 4 KB each: an idle connection holds
	// them, and reads and writes larger than a buffer bypass it.
	return h.fc, bufio.NewReadWriter(bufio.NewReaderSize(h.fc, readBufferSize), bufio.NewWriterSize(nc, writeBufferSize)), nil
}

func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// frameConn parses the headers of the frames a client sends and fails the
// read that would deliver a frame whose payload is over max (0: no limit).
// Only the connection's reader uses it.
type frameConn struct {
	net.Conn
	r   io.Reader
	max int64

	hdr    [14]byte
	hn     int   // header bytes seen
	need   int   // header length, once known
	remain int64 // payload bytes left in the current frame
	tooBig atomic.Bool
}

func (f *frameConn) Read(p []byte) (int, error) {
	if f.tooBig.Load() {
		return 0, errFrameTooBig
	}
	n, err := f.r.Read(p)
	if f.max <= 0 {
		return n, err
	}
	hstart := 0 // where the current header began in p (0: in an earlier read)
	for i := 0; i < n; {
		if f.remain > 0 {
			k := int(min(f.remain, int64(n-i)))
			i += k
			f.remain -= int64(k)
			continue
		}
		if f.hn == 0 {
			hstart = i
		}
		f.hdr[f.hn] = p[i]
		f.hn++
		i++
		if f.hn == 2 {
			f.need = 2
			switch f.hdr[1] & 0x7f {
			case 126:
				f.need += 2
			case 127:
				f.need += 8
			}
			if f.hdr[1]&0x80 != 0 {
				f.need += 4
			}
		}
		if f.hn < 2 || f.hn < f.need {
			continue
		}
		var length int64
		switch l := f.hdr[1] & 0x7f; l {
		case 126:
			length = int64(binary.BigEndian.Uint16(f.hdr[2:4]))
		case 127:
			length = int64(binary.BigEndian.Uint64(f.hdr[2:10]) & (1<<63 - 1))
		default:
			length = int64(l)
		}
		f.hn, f.need = 0, 0
		if length > f.max {
			f.tooBig.Store(true)
			return hstart, nil
		}
		f.remain = length
	}
	return n, err
}
