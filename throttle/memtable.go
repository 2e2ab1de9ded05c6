package throttle

// bucketTable maps 64-bit key hashes to bucket states (theoretical arrival
// times). It is an open-addressing table with linear probing over 16-byte
// slots: a lookup in a large table usually costs one cache miss (a Go map
// costs two or three), and the table holds no pointers, so the garbage
// collector never scans it. It is not safe for concurrent use; a shard's
// mutex guards it.
type bucketTable struct {
	slots []bucketSlot // power-of-two length, at most 3/4 full
	n     int
}

// bucketSlot is one entry; key 0 marks an empty slot (hashes of 0 are
// stored as 1).
type bucketSlot struct {
	key uint64
	tat int64
}

const minTable = 8

// slotKey maps a hash to the key stored for it.
func slotKey(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

// find returns the index of key's slot and true, or the index of the empty
// slot where key would go and false.
func (t *bucketTable) find(key uint64) (int, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := key & mask; ; i = (i + 1) & mask {
		switch t.slots[i].key {
		case key:
			return int(i), true
		case 0:
			return int(i), false
		}
	}
}

// put stores tat under key, which is not in the table.
func (t *bucketTable) put(key uint64, tat int64) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.resize(max(2*len(t.slots), minTable), nil)
	}
	i, _ := t.find(key)
	t.slots[i] = bucketSlot{key, tat}
	t.n++
}

// deleteAt empties slot i, shifting back the entries after it that would
// otherwise become unreachable.
func (t *bucketTable) deleteAt(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].key != 0; j = (j + 1) & mask {
		home := int(t.slots[j].key) & mask
		// The entry at j may fill the hole at i if i lies cyclically in
		// [home, j).
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = bucketSlot{}
	t.n--
}

// resize rebuilds the table with size slots (a power of two, large enough),
// keeping the entries for which keep returns true (all if keep is nil).
func (t *bucketTable) resize(size int, keep func(tat int64) bool) {
	old := t.slots
	t.slots = make([]bucketSlot, size)
	t.n = 0
	mask := uint64(size - 1)
	for _, s := range old {
		if s.key == 0 || keep != nil && !keep(s.tat) {
			continue
		}
		i := s.key & mask
		for t.slots[i].key != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
		t.n++
	}
}

// sizeFor returns the table size for n entries: a power of two at most
// 3/4 full after doubling n, and at least minTable.
func sizeFor(n int) int {
	size := minTable
	for size*3 < n*4*2 {
		size *= 2
	}
	return size
}
