package throttle

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Usage is a usage plan's usage report, in the shape of the model
// gateway's GetUsage: for each key, one entry per UTC day of the range.
type Usage struct {
	// PlanID is the plan reported on.
	PlanID string
	// From and To are the first and last day of the report (midnight
	// UTC).
	From, To time.Time
	// Items holds the days of each key, by key id, From first.
	Items map[string][]DayUsage
}

// DayUsage is one key's usage on one day.
type DayUsage struct {
	// Day is the day (midnight UTC).
	Day time.Time
	// Used is how many requests the key made that day.
	Used int64
	// Remaining is what was left of the key's quota at the end of the
	// day; -1 if the plan has no quota.
	Remaining int64
}

// MarshalJSON encodes u as the model gateway does:
//
//	{"usagePlanId":"pro","startDate":"2026-03-01","endDate":"2026-03-02",
//	 "values":{"key-1":[[12,988],[3,985]]}}
func (u Usage) MarshalJSON() ([]byte, error) {
	values := make(map[string][][2]int64, len(u.Items))
	for k, days := range u.Items {
		v := make([][2]int64, len(days))
		for i, d := range days {
			v[i] = [2]int64{d.Used, d.Remaining}
		}
		values[k] = v
	}
	return json.Marshal(struct {
		PlanID    string                `json:"usagePlanId"`
		StartDate string                `json:"startDate"`
		EndDate   string                `json:"endDate"`
		Values    map[string][][2]int64 `json:"values"`
	}{u.PlanID, u.From.Format(time.DateOnly), u.To.Format(time.DateOnly), values})
}

// Usage reports the usage of plan planID from the day of from to the day of
// to (UTC, both included, at most [MaxUsageDays] days): for the key keyID,
// or for every key in the plan when keyID is "". Each day has the requests
// the key made and the quota left at the end of the day. It returns an
// error for an unknown plan or key, a bad range, or a failing quota store.
func (m *Meter) Usage(ctx context.Context, planID, keyID string, from, to time.Time) (Usage, error) {
	first, last, err := DayRange(from, to)
	if err != nil {
		return Usage{}, err
	}
	m.mu.RLock()
	c, ok := m.plans[planID]
	var keys []string
	if ok {
		if keyID != "" {
			if !m.keys[planID][keyID] {
				m.mu.RUnlock()
				return Usage{}, fmt.Errorf("throttle: key %q is not in usage plan %q", keyID, planID)
			}
			keys = []string{keyID}
		} else {
			for k := range m.keys[planID] {
				keys = append(keys, k)
			}
		}
	}
	m.mu.RUnlock()
	if !ok {
		return Usage{}, fmt.Errorf("throttle: no usage plan %q", planID)
	}
	slices.Sort(keys)
	u := Usage{
		PlanID: planID,
		From:   dayTime(first),
		To:     dayTime(last),
		Items:  make(map[string][]DayUsage, len(keys)),
	}
	// Remaining needs the counts since the start of the period containing
	// the first day.
	fetchFrom := first
	if c.hasQuota {
		fetchFrom = dayNumber(c.quota.PeriodStart(u.From))
	}
	for _, k := range keys {
		counts, err := m.usageCounts(ctx, c.spec.ID+"\x00"+k, fetchFrom, last)
		if err != nil {
			return Usage{}, fmt.Errorf("throttle: usage of key %q in plan %q: %w", k, planID, err)
		}
		days := make([]DayUsage, 0, last-first+1)
		var w Window
		var used int64
		for d := fetchFrom; d <= last; d++ {
			n := counts[d-fetchFrom]
			remaining := int64(-1)
			if c.hasQuota {
				if dw := c.quota.Window(dayTime(d)); !dw.Start.Equal(w.Start) {
					w, used = dw, 0
				}
				used += n
				remaining = max(w.Limit-used, 0)
			}
			if d >= first {
				days = append(days, DayUsage{Day: dayTime(d), Used: n, Remaining: remaining})
			}
		}
		u.Items[k] = days
	}
	return u, nil
}

// usageCounts reads the daily counts of a quota key from day first to day
// last, in pieces of at most MaxUsageDays.
func (m *Meter) usageCounts(ctx context.Context, key string, first, last int64) ([]int64, error) {
	out := make([]int64, 0, last-first+1)
	for d := first; d <= last; d += MaxUsageDays {
		end := min(d+MaxUsageDays-1, last)
		part, err := m.quotas.Usage(ctx, key, dayTime(d), dayTime(end))
		if err != nil {
			return nil, err
		}
		if int64(len(part)) != end-d+1 {
			return nil, fmt.Errorf("quota store returned %d days for a range of %d", len(part), end-d+1)
		}
		out = append(out, part...)
	}
	return out, nil
}

// dayTime returns midnight UTC of day number d.
func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }
