// Package throttle limits request rates and quotas the way the model API
// gateway does: token buckets at the account, stage, method, usage-plan and
// plan-method levels, quotas per day, week or month, usage records per key
// per day, and 429 responses with Retry-After and the IETF RateLimit
// headers.
//
// A [Limit] is a token bucket (rate per second, burst). A [Store] keeps
// buckets and takes tokens atomically; [MemoryStore] is the in-memory one
// (sharded, bounded) and package redisstore has one that many processes
// share. [Fallback] keeps a gateway serving — or refusing, as configured —
// while a shared store is down. A [QuotaStore] counts quotas and usage.
//
// [Limiter] throttles any handler by any key:
//
//	mw, err := throttle.Middleware(throttle.Limit{Rate: 100, Burst: 200}, throttle.KeyByIP)
//	if err != nil {
//		log.Fatal(err)
//	}
//	http.ListenAndServe("127.0.0.1:8080", mw(handler))
//
// A [Meter] applies every level of a gateway plus its [UsagePlan]s to
// requests; the Portico gateway has one and exposes its plans as
// Gateway.AddUsagePlan and friends:
//
//	m, _ := throttle.NewMeter(throttle.MeterConfig{})
//	_ = m.AddPlan(throttle.UsagePlan{
//		ID:       "free",
//		Throttle: &throttle.Limit{Rate: 5, Burst: 10},
//		Quota:    &throttle.Quota{Limit: 1000, Period: throttle.Day},
//		Stages:   []throttle.PlanStage{{API: "pets", Stage: "prod"}},
//	})
//	_ = m.AddKey("free", "key-1")
//
// Logic takes the time as an argument (Store.Take's now); the entry points
// read an injected clock, so tests drive buckets and quota periods with a
// fake clock.
package throttle
