package upstream

import (
	"slices"
	"strconv"
)

// vnodes is how many points each target has on the hash ring.
const vnodes = 128

type ringPoint struct {
	hash   uint64
	target int
}

// buildRing places vnodes points per target, keyed by the target's host.
func buildRing(hosts []string) []ringPoint {
	ring := make([]ringPoint, 0, len(hosts)*vnodes)
	for i, h := range hosts {
		for v := range vnodes {
			ring = append(ring, ringPoint{hash: hashString(h + "#" + strconv.Itoa(v)), target: i})
		}
	}
	slices.SortFunc(ring, func(a, b ringPoint) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return a.target - b.target
	})
	return ring
}

// ringIndex is the index of the first ring point at or after h (wrapping).
func ringIndex(ring []ringPoint, h uint64) int {
	lo, hi := 0, len(ring)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ring[m].hash < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(ring) {
		return 0
	}
	return lo
}

// hashString is 64-bit FNV-1a with a final avalanche (splitmix64's), so
// that keys differing only in their last bytes still spread over the ring.
// It does not allocate.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
