package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/portico-gw/portico/clock"
)

// probeBodyLimit is how much of a probe's answer is read (so that the
// connection can be reused); the rest is dropped with the connection.
const probeBodyLimit = 64 << 10

// startHealthChecks starts one health-check goroutine per target. Close
// stops them.
func (p *Pool) startHealthChecks() {
	for _, t := range p.targets {
		p.wg.Add(1)
		go p.healthLoop(t)
	}
}

// healthLoop probes t at once and then every Interval of the pool's clock
// until the pool closes. It arms its timer only once a probe has ended, so
// a test that waits for as many timers as targets knows every loop is idle.
func (p *Pool) healthLoop(t *target) {
	defer p.wg.Done()
	probeURL := t.name + p.health.Path
	var timer clock.Timer
	for {
		err := p.probe(probeURL)
		if p.ctx.Err() != nil {
			return
		}
		p.markHealth(t, err, p.clock.Now())
		if timer == nil {
			timer = p.clock.NewTimer(p.health.Interval)
		} else {
			timer.Reset(p.health.Interval)
		}
		select {
		case <-p.ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
}

// probe sends one health probe; nil means healthy.
func (p *Pool) probe(probeURL string) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.health.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, probeURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "portico-health-check")
	res, err := p.health.Transport.RoundTrip(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, probeBodyLimit))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

// markHealth applies a probe's result to t at now.
func (p *Pool) markHealth(t *target, err error, now time.Time) {
	hc := p.health
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lastProbe = now
	if err == nil {
		t.lastProbeErr = ""
		t.hcFailures = 0
		t.hcSuccesses++
		if !t.healthy.Load() && t.hcSuccesses >= hc.HealthyThreshold {
			t.healthy.Store(true)
			p.logger.Info("portico: upstream target healthy", "target", t.name)
		}
		return
	}
	t.lastProbeErr = err.Error()
	t.hcSuccesses = 0
	t.hcFailures++
	if t.healthy.Load() && t.hcFailures >= hc.UnhealthyThreshold {
		t.healthy.Store(false)
		p.logger.Warn("portico: upstream target unhealthy", "target", t.name, "err", err)
	}
}
