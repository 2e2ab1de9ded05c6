package upstream

import (
	"sync"
	"time"
)

// budgetWindow is the period a retry budget is computed over.
const budgetWindow = 10 * time.Second

// budget caps retries at a ratio of the requests seen over the last
// budgetWindow, plus a floor of minPerSec retries per second of the window,
// so that retries cannot multiply the load on backends that are already
// failing. It is safe for concurrent use.
type budget struct {
	ratio     float64
	minPerSec int

	mu       sync.Mutex
	requests window // total: requests; failed: retries
}

func newBudget(ratio float64, minPerSec int) *budget {
	return &budget{ratio: ratio, minPerSec: minPerSec, requests: newWindow(budgetWindow)}
}

// deposit counts a request (not a retry).
func (b *budget) deposit(now time.Time) {
	b.mu.Lock()
	b.requests.add(now, 1, 0)
	b.mu.Unlock()
}

// withdraw spends one retry if the budget has one.
func (b *budget) withdraw(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	requests, retries := b.requests.sums(now)
	allowed := b.ratio*float64(requests) + float64(b.minPerSec)*budgetWindow.Seconds()
	if float64(retries)+1 > allowed {
		return false
	}
	b.requests.add(now, 0, 1)
	return true
}
