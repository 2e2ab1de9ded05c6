package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/fakeclock"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no targets", Config{}, "no targets"},
		{"bad scheme", Config{Targets: []string{"ftp://x"}}, "target 0"},
		{"no host", Config{Targets: []string{"http://"}}, "target 0"},
		{"path", Config{Targets: []string{"http://x/api"}}, "target 0"},
		{"query", Config{Targets: []string{"http://x?a=1"}}, "target 0"},
		{"user info", Config{Targets: []string{"http://u:p@x"}}, "target 0"},
		{"duplicate", Config{Targets: []string{"http://x", "http://x/"}}, "target 1"},
		{"balancer", Config{Targets: []string{"http://x"}, Balancer: "random"}, "balancer"},
		{"health path", Config{Targets: []string{"http://x"}, Health: &HealthConfig{Path: "health"}}, "HealthCheck.Path"},
		{"health absolute", Config{Targets: []string{"http://x"}, Health: &HealthConfig{Path: "//evil/x"}}, "HealthCheck.Path"},
		{"health negative", Config{Targets: []string{"http://x"}, Health: &HealthConfig{Path: "/h", Interval: -1}}, "HealthCheck"},
		{"outlier percent", Config{Targets: []string{"http://x"}, Outlier: &OutlierConfig{MaxEjectedPercent: 101}}, "OutlierDetection"},
		{"breaker ratio", Config{Targets: []string{"http://x"}, Breaker: &BreakerConfig{FailureRatio: 1.5}}, "CircuitBreaker"},
		{"retry negative", Config{Targets: []string{"http://x"}, Retry: &RetryConfig{Attempts: -1}}, "RetryPolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if err == nil {
				p.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	p := newPool(t, Config{Targets: []string{"http://a"}, Outlier: &OutlierConfig{}, Breaker: &BreakerConfig{}, Retry: &RetryConfig{}})
	if p.Balancer() != RoundRobin {
		t.Errorf("balancer %q", p.Balancer())
	}
	if got, want := *p.outlier, (OutlierConfig{DefaultConsecutiveFailures, DefaultBaseEjectionTime, DefaultMaxEjectionTime, DefaultMaxEjectedPercent}); got != want {
		t.Errorf("outlier %+v, want %+v", got, want)
	}
	if got, want := *p.breaker, (BreakerConfig{DefaultBreakerWindow, DefaultBreakerMinRequests, DefaultBreakerFailureRatio, DefaultBreakerOpenFor, DefaultBreakerHalfOpenRequests, 0}); got != want {
		t.Errorf("breaker %+v, want %+v", got, want)
	}
	if got, want := *p.retry, (RetryConfig{DefaultRetryAttempts, DefaultRetryBudget, DefaultRetryMinPerSecond}); got != want {
		t.Errorf("retry %+v, want %+v", got, want)
	}
}

func pickNames(t *testing.T, p *Pool, n int, key uint64) string {
	t.Helper()
	var b strings.Builder
	for range n {
		a, err := p.Pick(key, nil, p.Now())
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		b.WriteString(strings.TrimPrefix(a.URL().Host, "t"))
	}
	return b.String()
}

func TestRoundRobin(t *testing.T) {
	p := newPool(t, Config{Targets: []string{"http://t1", "http://t2", "https://t3"}})
	if got := pickNames(t, p, 7, 0); got != "1231231" {
		t.Fatalf("order %s, want 1231231", got)
	}
	p.targets[1].healthy.Store(false)
	if got := pickNames(t, p, 4, 0); !strings.Contains(got, "1") || strings.Contains(got, "2") {
		t.Fatalf("order with t2 down %s", got)
	}
	for _, tg := range p.targets {
		tg.healthy.Store(false)
	}
	if _, err := p.Pick(0, nil, p.Now()); !errors.Is(err, ErrNoTarget) {
		t.Fatalf("all down: %v", err)
	}
}

func TestPickAvoidsTried(t *testing.T) {
	p := newPool(t, Config{Targets: []string{"http://t1", "http://t2"}})
	first, _ := p.Pick(0, nil, p.Now())
	for range 4 {
		a, err := p.Pick(0, []Attempt{first}, p.Now())
		if err != nil || a.t == first.t {
			t.Fatalf("retry went to the tried target (%v)", err)
		}
	}
	one := newPool(t, Config{Targets: []string{"http://t1"}})
	a, _ := one.Pick(0, nil, one.Now())
	if b, err := one.Pick(0, []Attempt{a}, one.Now()); err != nil || b.t != a.t {
		t.Fatalf("single target: a retry must reuse it, got %v", err)
	}
}

func TestLeastOutstanding(t *testing.T) {
	p := newPool(t, Config{Targets: []string{"http://t1", "http://t2", "http://t3"}, Balancer: LeastOutstanding})
	load := map[string]int{}
	var held []Attempt
	for range 6 {
		a, err := p.Pick(0, nil, p.Now())
		if err != nil {
			t.Fatal(err)
		}
		p.Begin(a)
		held = append(held, a)
		load[a.URL().Host]++
	}
	for h, n := range load {
		if n != 2 {
			t.Fatalf("six requests in flight spread %v (%s has %d), want 2 each", load, h, n)
		}
	}
	// Finish both requests on t2: it takes the next two.
	for _, a := range held {
		if a.URL().Host == "t2" {
			p.End(a)
		}
	}
	if got := pickNames(t, p, 1, 0); got != "2" {
		t.Fatalf("picked t%s, want the idle t2", got)
	}
	st := p.Status()
	if st[0].Outstanding != 2 || st[1].Outstanding != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestConsistentHash(t *testing.T) {
	targets := []string{"http://t1", "http://t2", "http://t3", "http://t4"}
	p := newPool(t, Config{Targets: targets, Balancer: ConsistentHash, HashHeader: "x-user"})
	const users = 2000
	owner := make([]string, users)
	count := map[string]int{}
	for i := range users {
		h := http.Header{"X-User": {fmt.Sprintf("user-%d", i)}}
		key := p.HashKey(h, "192.0.2.1")
		owner[i] = pickNames(t, p, 1, key)
		if again := pickNames(t, p, 1, key); again != owner[i] {
			t.Fatalf("user-%d moved from t%s to t%s", i, owner[i], again)
		}
		count[owner[i]]++
	}
	for tg, n := range count {
		if n < users/4/2 || n > users/4*2 {
			t.Errorf("t%s owns %d of %d keys: poorly spread %v", tg, n, users, count)
		}
	}
	// Take t3 out: only its keys move.
	p.targets[2].healthy.Store(false)
	for i := range users {
		key := p.HashKey(http.Header{"X-User": {fmt.Sprintf("user-%d", i)}}, "")
		got := pickNames(t, p, 1, key)
		if owner[i] != "3" && got != owner[i] {
			t.Fatalf("user-%d moved from t%s to t%s though t%s stayed", i, owner[i], got, owner[i])
		}
		if got == "3" {
			t.Fatalf("user-%d still on the unavailable t3", i)
		}
	}
	// Without the header, the source IP is the key.
	if p.HashKey(http.Header{}, "192.0.2.1") != p.HashKey(nil, "192.0.2.1") || p.HashKey(nil, "192.0.2.1") == p.HashKey(nil, "192.0.2.2") {
		t.Error("source IP key")
	}
	if rr := newPool(t, Config{Targets: targets}); rr.HashKey(http.Header{"X-User": {"a"}}, "b") != 0 {
		t.Error("HashKey without ConsistentHash")
	}
}

func TestPickDoesNotAllocate(t *testing.T) {
	for _, b := range []Balancer{RoundRobin, LeastOutstanding, ConsistentHash} {
		p := newPool(t, Config{Targets: []string{"http://t1", "http://t2", "http://t3"}, Balancer: b, Breaker: &BreakerConfig{}, Outlier: &OutlierConfig{}})
		h := http.Header{"X-User": {"u"}}
		allocs := testing.AllocsPerRun(100, func() {
			now := p.Now()
			a, err := p.Pick(p.HashKey(h, "192.0.2.1"), nil, now)
			if err != nil {
				t.Fatal(err)
			}
			p.Begin(a)
			p.End(a)
			p.Done(a, Succeeded, now)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per pick", b, allocs)
		}
	}
}

func TestOutlierEjection(t *testing.T) {
	clk := fakeclock.New(t0)
	p := newPool(t, Config{
		Targets: []string{"http://t1", "http://t2", "http://t3", "http://t4"},
		Outlier: &OutlierConfig{ConsecutiveFailures: 3, BaseEjectionTime: 10 * time.Second, MaxEjectionTime: 25 * time.Second, MaxEjectedPercent: 50},
		Clock:   clk,
	})
	fail := func(i, n int) {
		for range n {
			p.Done(Attempt{t: p.targets[i]}, Failed, clk.Now())
		}
	}
	fail(0, 2)
	p.Done(Attempt{t: p.targets[0]}, Succeeded, clk.Now()) // a success resets the count
	fail(0, 2)
	if st := p.Status()[0]; !st.Available || !st.EjectedUntil.IsZero() {
		t.Fatalf("ejected after 2 consecutive failures: %+v", st)
	}
	fail(0, 1)
	st := p.Status()[0]
	if st.Available || !st.EjectedUntil.Equal(t0.Add(10*time.Second)) || st.Ejections != 1 {
		t.Fatalf("after 3 consecutive failures: %+v", st)
	}
	// At most half the targets (2 of 4) are ejected at once.
	fail(1, 3)
	fail(2, 3)
	if st := p.Status(); st[1].Available || !st[2].Available {
		t.Fatalf("ejection cap: t2 available %v, t3 available %v", st[1].Available, st[2].Available)
	}
	// The ejection ends; a second one soon after lasts twice as long, a
	// third is capped.
	clk.Advance(10 * time.Second)
	if st := p.Status()[0]; !st.Available {
		t.Fatalf("still ejected after BaseEjectionTime: %+v", st)
	}
	fail(0, 3)
	if st := p.Status()[0]; !st.EjectedUntil.Equal(clk.Now().Add(20*time.Second)) || st.Ejections != 2 {
		t.Fatalf("second ejection: %+v", st)
	}
	clk.Advance(20 * time.Second)
	fail(0, 3)
	if st := p.Status()[0]; !st.EjectedUntil.Equal(clk.Now().Add(25 * time.Second)) {
		t.Fatalf("third ejection not capped at MaxEjectionTime: %+v", st)
	}
	// Long good behaviour forgets the ejections.
	clk.Advance(25*time.Second + 3*10*time.Second)
	if st := p.Status()[0]; st.Ejections != 0 || !st.Available {
		t.Fatalf("ejections not forgotten: %+v", st)
	}
	// Abandoned attempts say nothing about the target.
	for range 5 {
		p.Done(Attempt{t: p.targets[3]}, Abandoned, clk.Now())
	}
	if st := p.Status()[3]; !st.Available || st.Requests != 0 {
		t.Fatalf("abandoned attempts counted: %+v", st)
	}
}

func TestOutlierEjectsAtLeastOne(t *testing.T) {
	clk := fakeclock.New(t0)
	p := newPool(t, Config{Targets: []string{"http://t1"}, Outlier: &OutlierConfig{ConsecutiveFailures: 1, MaxEjectedPercent: 10}, Clock: clk})
	p.Done(Attempt{t: p.targets[0]}, Failed, clk.Now())
	if _, err := p.Pick(0, nil, clk.Now()); !errors.Is(err, ErrNoTarget) {
		t.Fatalf("the only, failing target was not ejected: %v", err)
	}
}

func TestBreaker(t *testing.T) {
	clk := fakeclock.New(t0)
	p := newPool(t, Config{
		Targets: []string{"http://t1", "http://t2"},
		Breaker: &BreakerConfig{Window: 10 * time.Second, MinRequests: 4, FailureRatio: 0.5, OpenFor: 5 * time.Second, HalfOpenRequests: 1},
		Clock:   clk,
	})
	t1 := p.targets[0]
	done := func(o Outcome) { p.Done(Attempt{t: t1}, o, clk.Now()) }
	done(Failed)
	done(Failed)
	done(Failed) // 3 of 3 failed, but fewer than MinRequests
	if st := p.Status()[0]; st.Breaker != BreakerClosed {
		t.Fatalf("opened below MinRequests: %v", st.Breaker)
	}
	done(Succeeded) // 3 of 4 failed ≥ 0.5, but a success does not open
	done(Failed)    // 4 of 5
	if st := p.Status()[0]; st.Breaker != BreakerOpen || st.Available {
		t.Fatalf("after 4 of 5 failed: %+v", st)
	}
	for range 4 {
		if a, _ := p.Pick(0, nil, clk.Now()); a.t == t1 {
			t.Fatal("open breaker let a request through")
		}
	}
	clk.Advance(5 * time.Second)
	if st := p.Status()[0]; st.Breaker != BreakerHalfOpen || !st.Available {
		t.Fatalf("after OpenFor: %+v", st)
	}
	// One trial at a time.
	var trial Attempt
	for trial.t != t1 {
		trial, _ = p.Pick(0, nil, clk.Now())
	}
	if !trial.trial {
		t.Fatal("the half-open pick is not a trial")
	}
	for range 4 {
		if a, _ := p.Pick(0, nil, clk.Now()); a.t == t1 {
			t.Fatal("a second trial went through")
		}
	}
	p.Done(trial, Failed, clk.Now())
	if st := p.Status()[0]; st.Breaker != BreakerOpen {
		t.Fatalf("failed trial: %v", st.Breaker)
	}
	clk.Advance(5 * time.Second)
	trial = Attempt{}
	for trial.t != t1 {
		trial, _ = p.Pick(0, nil, clk.Now())
	}
	p.Done(trial, Succeeded, clk.Now())
	if st := p.Status()[0]; st.Breaker != BreakerClosed || !st.Available {
		t.Fatalf("good trial: %+v", st)
	}
	// An abandoned trial gives its slot back.
	for range 5 {
		done(Failed)
	}
	clk.Advance(5 * time.Second)
	trial = Attempt{}
	for trial.t != t1 {
		trial, _ = p.Pick(0, nil, clk.Now())
	}
	p.Done(trial, Abandoned, clk.Now())
	if ok, _ := p.usableClaim(t1, clk.Now(), false); !ok {
		t.Fatal("abandoned trial kept its slot")
	}
}

func TestBreakerWindowSlides(t *testing.T) {
	clk := fakeclock.New(t0)
	p := newPool(t, Config{Targets: []string{"http://t1"}, Breaker: &BreakerConfig{Window: 10 * time.Second, MinRequests: 4, FailureRatio: 0.5}, Clock: clk})
	for range 3 {
		p.Done(Attempt{t: p.targets[0]}, Failed, clk.Now())
	}
	clk.Advance(11 * time.Second) // those fall out of the window
	p.Done(Attempt{t: p.targets[0]}, Failed, clk.Now())
	if st := p.Status()[0]; st.Breaker != BreakerClosed {
		t.Fatalf("old failures counted: %v", st.Breaker)
	}
}

func TestBreakerMaxRequests(t *testing.T) {
	p := newPool(t, Config{Targets: []string{"http://t1", "http://t2"}, Breaker: &BreakerConfig{MaxRequests: 1}})
	a, _ := p.Pick(0, nil, p.Now())
	p.Begin(a)
	b, _ := p.Pick(0, nil, p.Now())
	p.Begin(b)
	if a.t == b.t {
		t.Fatal("a target at MaxRequests took another request")
	}
	if _, err := p.Pick(0, nil, p.Now()); !errors.Is(err, ErrNoTarget) {
		t.Fatalf("every target at MaxRequests: %v", err)
	}
	p.End(a)
	if c, err := p.Pick(0, nil, p.Now()); err != nil || c.t != a.t {
		t.Fatalf("after End: %v", err)
	}
}

func TestBudget(t *testing.T) {
	clk := fakeclock.New(t0)
	b := newBudget(0.1, 1) // 10 retries of floor over the 10 s window
	for i := range 10 {
		if !b.withdraw(clk.Now()) {
			t.Fatalf("retry %d refused within the floor", i)
		}
	}
	if b.withdraw(clk.Now()) {
		t.Fatal("retry beyond the floor with no requests")
	}
	for range 20 {
		b.deposit(clk.Now())
	}
	first, second, third := b.withdraw(clk.Now()), b.withdraw(clk.Now()), b.withdraw(clk.Now())
	if !first || !second || third {
		t.Fatal("20 requests at 10% should allow exactly 2 more retries")
	}
	clk.Advance(11 * time.Second)
	if !b.withdraw(clk.Now()) {
		t.Fatal("the window did not slide")
	}
}
