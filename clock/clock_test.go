package clock

import (
	"testing"
	"time"
)

func TestRealClock(t *testing.T) {
	c := OrReal(nil)
	before := time.Now()
	if got := c.Now(); got.Before(before) {
		t.Fatalf("Now() = %v, before %v", got, before)
	}
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	if tm.Stop() {
		t.Fatal("Stop() after firing = true, want false")
	}
	done := make(chan struct{})
	af := c.AfterFunc(time.Millisecond, func() { close(done) })
	<-done
	if af.C() != nil {
		t.Fatal("AfterFunc timer has a channel")
	}
	if af.Reset(time.Hour) {
		t.Fatal("Reset of a fired AfterFunc reported active")
	}
	if !af.Stop() {
		t.Fatal("Stop of a re-armed timer = false, want true")
	}
}
