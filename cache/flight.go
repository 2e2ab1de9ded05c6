package cache

import "sync"

// flights makes concurrent misses for one key share one fetch: the first
// caller (the leader) calls the integration, the others wait for its result.
// Safe for concurrent use; the zero value is ready.
type flights struct {
	mu sync.Mutex // guards m
	m  map[string]*flight
}

// flight is one fetch in progress. entry is set before done is closed and
// is nil when the response could not be cached (the waiters then fetch for
// themselves).
type flight struct {
	done  chan struct{}
	entry *Entry // plaintext
}

// join returns the flight for key and whether the caller leads it.
func (g *flights) join(key string) (*flight, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.m[key]; f != nil {
		return f, false
	}
	if g.m == nil {
		g.m = map[string]*flight{}
	}
	f := &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// finish ends the leader's flight with its entry (nil if none) and wakes the
// waiters.
func (g *flights) finish(key string, f *flight, e *Entry) {
	g.mu.Lock()
	if g.m[key] == f {
		delete(g.m, key)
	}
	g.mu.Unlock()
	f.entry = e
	close(f.done)
}
