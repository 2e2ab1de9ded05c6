// Package clock is the source of time for every part of Portico that reads it.
//
// Code that makes decisions takes a now time.Time; the entry points that need
// the current time or a timer read them from a [Clock]. Production code uses
// [Real]; tests pass the fake clock from porticotest and move it with Advance
// instead of sleeping:
//
//	clk := porticotest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
//	gw, _ := portico.New(portico.WithClock(clk))
//	clk.Advance(30 * time.Second)
package clock

import "time"

// Clock tells the time and makes timers. Implementations are safe for
// concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once d has
	// passed.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine once d has passed. The returned
	// timer's C is nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a single-shot timer made by a [Clock].
type Timer interface {
	// C returns the channel the time is sent on; nil for AfterFunc timers.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it stopped the
	// timer (false if it had already fired or been stopped).
	Stop() bool
	// Reset makes the timer fire after d. It reports whether the timer had
	// been active.
	Reset(d time.Duration) bool
}

// Real returns the clock of the operating system.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{t: time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{t: time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Stop() bool                 { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }

// OrReal returns c, or the real clock when c is nil.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real()
	}
	return c
}
