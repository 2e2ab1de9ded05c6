package throttle

import (
	"testing"
	"unsafe"
)

func TestShardSize(t *testing.T) {
	if got := unsafe.Sizeof(memShard{}); got != 64 {
		t.Errorf("memShard is %d bytes, want 64 (one cache line)", got)
	}
}

// FuzzBucketTable checks the open-addressing table against a Go map under
// any sequence of puts, updates, deletes and sweeps. Keys are drawn from a
// small range with clustered hashes, so that probing chains wrap and
// deletion has to shift entries back.
func FuzzBucketTable(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 130, 131, 200, 1, 2})
	f.Add([]byte{0, 8, 16, 24, 32, 40, 48, 56, 64, 136, 144, 152, 250, 251})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var tb bucketTable
		ref := map[uint64]int64{}
		for i, op := range ops {
			// Keys 1..32 with their low bits clustered: many share a home
			// slot.
			key := slotKey(uint64(op&31) << (op >> 5 & 3))
			switch {
			case op >= 224: // sweep: keep even tats
				keep := func(tat int64) bool { return tat%2 == 0 }
				tb.resize(sizeFor(tb.n), keep)
				for k, v := range ref {
					if !keep(v) {
						delete(ref, k)
					}
				}
			case op >= 160: // delete
				if j, ok := tb.find(key); ok {
					tb.deleteAt(j)
				}
				delete(ref, key)
			default: // put or update
				if j, ok := tb.find(key); ok {
					tb.slots[j].tat = int64(i)
				} else {
					tb.put(key, int64(i))
				}
				ref[key] = int64(i)
			}
			if tb.n != len(ref) {
				t.Fatalf("op %d: table has %d entries, map %d", i, tb.n, len(ref))
			}
			for k, v := range ref {
				j, ok := tb.find(k)
				if !ok || tb.slots[j].tat != v {
					t.Fatalf("op %d: key %d: found %v, want tat %d", i, k, ok, v)
				}
			}
			if tb.n > 0 && tb.n*4 > len(tb.slots)*3 {
				t.Fatalf("op %d: %d entries in %d slots", i, tb.n, len(tb.slots))
			}
		}
	})
}
