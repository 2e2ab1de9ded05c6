package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Store holds cached responses, grouped in namespaces (one per stage) that
// can be flushed at once. [MemoryStore] keeps them in the process; the Redis
// store in package redisstore shares them between gateway instances.
//
// Every namespace has a generation, which [Store.Flush] advances. A caller
// that misses reads the generation with [Store.Get] and passes it back to
// [Store.Set]; a Set whose generation is out of date is dropped, so that a
// response fetched before a flush never lands in the cache after it.
//
// Namespaces are non-empty and contain no '{' or '}' (Redis hash-tag
// delimiters); keys are any non-empty strings. Implementations must be safe
// for concurrent use.
type Store interface {
	// Get returns the entry stored under key in namespace ns if it has not
	// expired at now (now is before its Expires), else nil, together with
	// the namespace's current generation. The entry may be shared with
	// other callers: it must not be modified.
	Get(ctx context.Context, ns, key string, now time.Time) (e *Entry, gen uint64, err error)
	// Set stores e under key in ns until e.Expires, replacing any entry
	// there, unless ns has been flushed since Get returned gen: then it
	// stores nothing and returns nil. A store may also decline an entry it
	// has no room for. The store may keep e: it must not be modified after
	// the call.
	Set(ctx context.Context, ns, key string, gen uint64, e *Entry, now time.Time) error
	// Delete removes the entry under key in ns, if any.
	Delete(ctx context.Context, ns, key string) error
	// Flush removes every entry of ns and advances its generation.
	Flush(ctx context.Context, ns string) error
}

// Entry is a cached response: what a cache hit replays. Stores treat it as
// immutable once stored.
type Entry struct {
	// Status is the response status code.
	Status int
	// Header holds the response headers to replay, without hop-by-hop and
	// per-request headers. Its value slices have no spare capacity, so that
	// appending to a replayed header copies it instead of writing into the
	// shared entry.
	Header http.Header
	// Body is the response body, sealed with AES-GCM (nonce first) when
	// Encrypted is set.
	Body []byte
	// Expires is when the entry stops being served.
	Expires time.Time
	// Encrypted reports whether Body is sealed.
	Encrypted bool
}

// entryOverhead approximates the bytes an entry costs beyond its strings and
// body (structs, map buckets, slice headers, list links).
const entryOverhead = 160

// Size returns the approximate number of bytes e takes in memory: what a
// [MemoryStore] counts against its capacity.
func (e *Entry) Size() int64 {
	n := int64(entryOverhead + len(e.Body))
	for k, vs := range e.Header {
		n += int64(len(k)) + 16
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	return n
}

// Binary encoding of an entry, version 1:
//
//	"PC" 0x01 flags(1) uvarint(status) varint(expires unix ns, 0 = zero time)
//	uvarint(#headers) { uvarint(len) name uvarint(#values) { uvarint(len) value } }
//	uvarint(len) body
//
// Headers are written in name order, so that equal entries encode equally.
const (
	entryMagic0, entryMagic1 = 'P', 'C'
	entryVersion             = 1
	flagEncrypted            = 1
)

// ErrBadEntry is returned (wrapped) by [Entry.UnmarshalBinary] for data that
// is not an encoded entry.
var ErrBadEntry = errors.New("cache: malformed entry")

// MarshalBinary encodes e for stores that keep bytes (Redis).
func (e *Entry) MarshalBinary() ([]byte, error) {
	return e.AppendBinary(make([]byte, 0, 32+len(e.Body)+64*len(e.Header)))
}

// AppendBinary appends the encoding of e to b. It fails only for a status
// outside 100–999.
func (e *Entry) AppendBinary(b []byte) ([]byte, error) {
	if e.Status < 100 || e.Status > 999 {
		return b, fmt.Errorf("cache: entry status %d is not a valid HTTP status", e.Status)
	}
	var flags byte
	if e.Encrypted {
		flags |= flagEncrypted
	}
	b = append(b, entryMagic0, entryMagic1, entryVersion, flags)
	b = binary.AppendUvarint(b, uint64(e.Status))
	var exp int64
	if !e.Expires.IsZero() {
		exp = e.Expires.UnixNano()
	}
	b = binary.AppendVarint(b, exp)
	names := make([]string, 0, len(e.Header))
	for k := range e.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, k := range names {
		b = appendString(b, k)
		vs := e.Header[k]
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	return append(b, e.Body...), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes data made by [Entry.MarshalBinary] into e. It
// copies what it keeps, so data may be reused afterwards. Malformed data
// gives an error wrapping [ErrBadEntry] and leaves e unchanged.
func (e *Entry) UnmarshalBinary(data []byte) error {
	d := decoder{data: data}
	if len(data) < 4 || data[0] != entryMagic0 || data[1] != entryMagic1 {
		return fmt.Errorf("%w: bad magic", ErrBadEntry)
	}
	if data[2] != entryVersion {
		return fmt.Errorf("%w: unknown version %d", ErrBadEntry, data[2])
	}
	flags := data[3]
	if flags&^flagEncrypted != 0 {
		return fmt.Errorf("%w: unknown flags %#x", ErrBadEntry, flags)
	}
	d.off = 4
	status := d.uvarint()
	exp := d.varint()
	nh := d.count()
	if d.err != nil {
		return d.err
	}
	if status < 100 || status > 999 {
		return fmt.Errorf("%w: status %d", ErrBadEntry, status)
	}
	// Header strings share one allocation: the header part of data.
	hdrStart := d.off
	var h http.Header
	if nh > 0 {
		h = make(http.Header, nh)
	}
	spans := make([]span, 0, 8)
	type hdr struct {
		name       span
		first, cnt int
	}
	hdrs := make([]hdr, 0, nh)
	for range nh {
		name := d.bytes()
		nv := d.count()
		if d.err != nil {
			return d.err
		}
		if name.n == 0 {
			return fmt.Errorf("%w: empty header name", ErrBadEntry)
		}
		first := len(spans)
		for range nv {
			v := d.bytes()
			if d.err != nil {
				return d.err
			}
			spans = append(spans, v)
		}
		hdrs = append(hdrs, hdr{name: name, first: first, cnt: nv})
	}
	hdrEnd := d.off
	body := d.bytes()
	if d.err != nil {
		return d.err
	}
	if d.off != len(data) {
		return fmt.Errorf("%w: %d trailing bytes", ErrBadEntry, len(data)-d.off)
	}
	strs := string(data[hdrStart:hdrEnd])
	sub := func(s span) string { return strs[s.off-hdrStart : s.off-hdrStart+s.n] }
	vals := make([]string, len(spans))
	for i, s := range spans {
		vals[i] = sub(s)
	}
	for _, x := range hdrs {
		name := sub(x.name)
		if _, dup := h[name]; dup {
			return fmt.Errorf("%w: duplicate header %q", ErrBadEntry, name)
		}
		h[name] = vals[x.first : x.first+x.cnt : x.first+x.cnt]
	}
	*e = Entry{
		Status:    int(status),
		Header:    h,
		Body:      slices.Clone(data[body.off : body.off+body.n]),
		Encrypted: flags&flagEncrypted != 0,
	}
	if exp != 0 {
		e.Expires = time.Unix(0, exp)
	}
	return nil
}

type decoder struct {
	data []byte
	off  int
	err  error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data[d.off:])
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated number at byte %d", ErrBadEntry, d.off)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.data[d.off:])
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated number at byte %d", ErrBadEntry, d.off)
		return 0
	}
	d.off += n
	return v
}

// count reads a count of items that each take at least one byte, so a count
// larger than what is left is malformed (and never allocated for).
func (d *decoder) count() int {
	v := d.uvarint()
	if d.err == nil && v > uint64(len(d.data)-d.off) {
		d.err = fmt.Errorf("%w: count %d over the %d bytes left", ErrBadEntry, v, len(d.data)-d.off)
		return 0
	}
	return int(v)
}

// span is where a string is in the data being decoded.
type span struct{ off, n int }

// bytes reads a length-prefixed byte string and returns where it is.
func (d *decoder) bytes() span {
	n := d.count()
	if d.err != nil {
		return span{}
	}
	s := span{d.off, n}
	d.off += n
	return s
}
