package fakeclock

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestAdvanceFiresInOrder(t *testing.T) {
	c := New(start)
	t2 := c.NewTimer(2 * time.Second)
	t1 := c.NewTimer(time.Second)
	if got := c.Timers(); got != 2 {
		t.Fatalf("Timers() = %d, want 2", got)
	}
	c.Advance(1500 * time.Millisecond)
	select {
	case got := <-t1.C():
		if want := start.Add(time.Second); !got.Equal(want) {
			t.Fatalf("t1 fired at %v, want %v", got, want)
		}
	default:
		t.Fatal("t1 did not fire")
	}
	select {
	case <-t2.C():
		t.Fatal("t2 fired early")
	default:
	}
	if got, want := c.Now(), start.Add(1500*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
	c.Advance(time.Second)
	<-t2.C()
}

func TestStopAndReset(t *testing.T) {
	c := New(start)
	tm := c.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop() = false on an active timer")
	}
	if tm.Stop() {
		t.Fatal("second Stop() = true")
	}
	c.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a stopped timer reported active")
	}
	c.Advance(time.Second)
	<-tm.C()
}

func TestAfterFuncAndWait(t *testing.T) {
	c := New(start)
	done := make(chan struct{})
	go func() {
		c.AfterFunc(time.Minute, func() { close(done) })
	}()
	if !c.WaitForTimers(1, 5*time.Second) {
		t.Fatal("timer never armed")
	}
	c.Advance(time.Minute)
	<-done
	if c.WaitForTimers(1, time.Millisecond) {
		t.Fatal("WaitForTimers(1) = true with no timers")
	}
}

func TestZeroDurationFiresAtOnce(t *testing.T) {
	c := New(start)
	tm := c.NewTimer(0)
	select {
	case <-tm.C():
	default:
		t.Fatal("zero-duration timer did not fire")
	}
	c.AdvanceTo(start.Add(-time.Hour))
	if !c.Now().Equal(start) {
		t.Fatal("clock moved backwards")
	}
}
