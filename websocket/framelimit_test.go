package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// frame builds a masked client frame header for a payload of n bytes,
// followed by the payload.
func frame(n int) []byte {
	b := []byte{0x81}
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, 1, 2, 3, 4) // mask
	return append(b, bytes.Repeat([]byte{'x'}, n)...)
}

// readAll reads through a frameConn in reads of at most chunk bytes and
// returns what it delivered and whether it refused a frame.
func readAll(stream []byte, max int64, chunk int) ([]byte, bool) {
	f := &frameConn{r: bytes.NewReader(stream), max: max}
	var out []byte
	buf := make([]byte, chunk)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, errFrameTooBig) {
			return out, true
		}
		if err == io.EOF || (err == nil && n == 0 && f.tooBig.Load()) {
			return out, f.tooBig.Load()
		}
		if err != nil {
			return out, false
		}
	}
}

func TestFrameConn(t *testing.T) {
	ok1, ok2, big := frame(10), frame(300), frame(70000)
	tests := []struct {
		name      string
		stream    []byte
		max       int64
		wantBytes int
		wantBig   bool
	}{
		{"all within", slices(ok1, ok2), 1000, len(ok1) + len(ok2), false},
		{"big after small", slices(ok1, ok2, big), 32 << 10, len(ok1) + len(ok2), true},
		{"16-bit length over", slices(ok1, frame(2000)), 1000, len(ok1), true},
		{"exactly the limit", frame(1000), 1000, len(frame(1000)), false},
		{"no limit", slices(big, ok1), 0, len(big) + len(ok1), false},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 3, 7, 4096, 1 << 20} {
			got, isBig := readAll(tt.stream, tt.max, chunk)
			// A refused frame's header may be partly delivered when it
			// arrives split across reads; its payload never is.
			extra := len(got) - tt.wantBytes
			if extra < 0 || extra > 13 || (extra > 0 && !tt.wantBig) || isBig != tt.wantBig || !bytes.Equal(got, tt.stream[:len(got)]) {
				t.Errorf("%s, reads of %d: delivered %d bytes, too big %v; want %d, %v", tt.name, chunk, len(got), isBig, tt.wantBytes, tt.wantBig)
			}
		}
	}
}

func slices(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// FuzzFrameConn: however the stream is split into reads, the watcher
// refuses the same frame and delivers the same bytes, but for at most the
// first 13 header bytes of the refused frame.
func FuzzFrameConn(f *testing.F) {
	f.Add(slices(frame(10), frame(200)), uint16(100), uint8(3))
	f.Add(frame(70000)[:20], uint16(65535), uint8(1))
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, uint16(1), uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, max uint16, chunk uint8) {
		whole, bigWhole := readAll(stream, int64(max), len(stream)+1)
		split, bigSplit := readAll(stream, int64(max), int(chunk)%16+1)
		if bigWhole != bigSplit || !bytes.HasPrefix(split, whole) || len(split)-len(whole) > 13 || (!bigWhole && len(split) != len(whole)) {
			t.Fatalf("one read: %d bytes, big %v; split reads: %d bytes, big %v", len(whole), bigWhole, len(split), bigSplit)
		}
	})
}
