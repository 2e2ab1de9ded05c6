package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/portico-gw/portico/websocket"
	"github.com/redis/go-redis/v9"
)

// WebSocketRegistry is a [websocket.Registry] in Redis: gateway instances
// that use one (same server, same prefix) share one @connections space. A
// POST to @connections/{id} on any instance reaches the client connected
// to whichever instance holds it.
//
// Keys: prefix+"ws:conn:"+ID is a hash with the connection's record
// (instance, apiId, stage, connectedAt, lastActiveAt in Unix milliseconds,
// sourceIp, userAgent), kept for ConnectionTTL after its last write;
// prefix+"ws:inst:"+INSTANCE holds the instance's heartbeat, the Unix
// nanoseconds until which it is alive. A connection is live while its
// record exists and its instance's heartbeat is in the future of the now
// the caller passes (so tests can use a fake clock); Redis expiry only
// reclaims memory. Commands travel by pub/sub on the channel
// prefix+"ws:chan:"+INSTANCE, one subscriber per instance, so they arrive
// in the order they were published; a publish nobody receives (the
// instance is dead) is [websocket.ErrGone].
//
// A WebSocketRegistry is safe for concurrent use. It does not own the
// client.
type WebSocketRegistry struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	logger *slog.Logger
}

var _ websocket.Registry = (*WebSocketRegistry)(nil)

// DefaultConnectionTTL is how long a connection record outlives its last
// write in Redis when its instance dies without removing it.
const DefaultConnectionTTL = 24 * time.Hour

// instanceTTL is how long Redis keeps a heartbeat key after its last
// renewal; liveness itself is decided by the value.
const instanceTTL = time.Hour

// NewWebSocketRegistry returns a registry on rdb whose keys and channels
// start with prefix (e.g. "portico:"). It returns an error for a nil
// client.
func NewWebSocketRegistry(rdb redis.UniversalClient, prefix string) (*WebSocketRegistry, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil Redis client")
	}
	return &WebSocketRegistry{rdb: rdb, prefix: prefix, ttl: DefaultConnectionTTL, logger: slog.Default()}, nil
}

func (r *WebSocketRegistry) connKey(id string) string       { return r.prefix + "ws:conn:" + id }
func (r *WebSocketRegistry) instKey(instance string) string { return r.prefix + "ws:inst:" + instance }
func (r *WebSocketRegistry) channel(instance string) string { return r.prefix + "ws:chan:" + instance }

// Register implements [websocket.Registry] with one HSET and PEXPIRE.
func (r *WebSocketRegistry) Register(ctx context.Context, c websocket.ConnectionInfo) error {
	key := r.connKey(c.ID)
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key,
			"instance", c.Instance, "apiId", c.APIID, "stage", c.Stage,
			"connectedAt", c.ConnectedAt.UnixMilli(), "lastActiveAt", c.LastActiveAt.UnixMilli(),
			"sourceIp", c.SourceIP, "userAgent", c.UserAgent)
		p.PExpire(ctx, key, r.ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: websocket register: %w", err)
	}
	return nil
}

// Unregister implements [websocket.Registry] with one DEL.
func (r *WebSocketRegistry) Unregister(ctx context.Context, id string) error {
	if err := r.rdb.Del(ctx, r.connKey(id)).Err(); err != nil {
		return fmt.Errorf("redisstore: websocket unregister: %w", err)
	}
	return nil
}

// touchScript sets lastActiveAt only on an existing record.
var touchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'lastActiveAt', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// Touch implements [websocket.Registry] with one script.
func (r *WebSocketRegistry) Touch(ctx context.Context, id string, lastActive time.Time) error {
	if err := touchScript.Run(ctx, r.rdb, []string{r.connKey(id)}, lastActive.UnixMilli(), r.ttl.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("redisstore: websocket touch: %w", err)
	}
	return nil
}

// Lookup implements [websocket.Registry] with one HGETALL and one GET.
func (r *WebSocketRegistry) Lookup(ctx context.Context, id string, now time.Time) (websocket.ConnectionInfo, error) {
	h, err := r.rdb.HGetAll(ctx, r.connKey(id)).Result()
	if err != nil {
		return websocket.ConnectionInfo{}, fmt.Errorf("redisstore: websocket lookup: %w", err)
	}
	if len(h) == 0 || h["instance"] == "" {
		return websocket.ConnectionInfo{}, websocket.ErrGone
	}
	until, err := r.rdb.Get(ctx, r.instKey(h["instance"])).Int64()
	if errors.Is(err, redis.Nil) {
		return websocket.ConnectionInfo{}, websocket.ErrGone
	}
	if err != nil {
		return websocket.ConnectionInfo{}, fmt.Errorf("redisstore: websocket lookup: %w", err)
	}
	if now.UnixNano() >= until {
		return websocket.ConnectionInfo{}, websocket.ErrGone
	}
	ms := func(k string) time.Time {
		v, _ := strconv.ParseInt(h[k], 10, 64)
		return time.UnixMilli(v).UTC()
	}
	return websocket.ConnectionInfo{
		ID: id, Instance: h["instance"], APIID: h["apiId"], Stage: h["stage"],
		ConnectedAt: ms("connectedAt"), LastActiveAt: ms("lastActiveAt"),
		SourceIP: h["sourceIp"], UserAgent: h["userAgent"],
	}, nil
}

// Heartbeat implements [websocket.Registry] with one SET … PX.
func (r *WebSocketRegistry) Heartbeat(ctx context.Context, instance string, until time.Time) error {
	if err := r.rdb.Set(ctx, r.instKey(instance), until.UnixNano(), instanceTTL).Err(); err != nil {
		return fmt.Errorf("redisstore: websocket heartbeat: %w", err)
	}
	return nil
}

// Deliver implements [websocket.Registry] with one PUBLISH.
func (r *WebSocketRegistry) Deliver(ctx context.Context, instance string, cmd websocket.Command) error {
	n, err := r.rdb.Publish(ctx, r.channel(instance), encodeCommand(cmd)).Result()
	if err != nil {
		return fmt.Errorf("redisstore: websocket deliver: %w", err)
	}
	if n == 0 {
		return websocket.ErrGone
	}
	return nil
}

// Listen implements [websocket.Registry]: it subscribes to the instance's
// channel (returning once the subscription is confirmed, or with setup's
// error) and calls handle from one goroutine, which stop ends and waits
// for.
func (r *WebSocketRegistry) Listen(setup context.Context, instance string, handle func(websocket.Command)) (func(), error) {
	if handle == nil {
		return nil, errors.New("redisstore: websocket listen: nil handler")
	}
	ctx := context.Background() // the subscription outlives setup
	ps := r.rdb.Subscribe(ctx, r.channel(instance))
	if _, err := ps.Receive(setup); err != nil { // the subscription confirmation
		_ = ps.Close()
		return nil, fmt.Errorf("redisstore: websocket listen: %w", err)
	}
	stopping := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil {
				select {
				case <-stopping:
					return
				default:
				}
				if errors.Is(err, redis.ErrClosed) {
					return
				}
				r.logger.Error("portico: websocket registry receive failed", "instance", instance, "err", err)
				t := time.NewTimer(100 * time.Millisecond) // go-redis reconnects on the next receive
				select {
				case <-stopping:
					t.Stop()
					return
				case <-t.C:
				}
				continue
			}
			cmd, err := decodeCommand([]byte(msg.Payload))
			if err != nil {
				r.logger.Error("portico: websocket registry: bad command", "instance", instance, "err", err)
				continue
			}
			handle(cmd)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stopping)
			_ = ps.Close()
			wg.Wait()
		})
	}, nil
}

// encodeCommand writes op (one byte: 'p' or 'd'), the id's length as a
// uvarint, the id and the data.
func encodeCommand(c websocket.Command) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(c.ConnectionID)+len(c.Data))
	op := byte('p')
	if c.Op == websocket.OpDelete {
		op = 'd'
	}
	b = append(b, op)
	b = binary.AppendUvarint(b, uint64(len(c.ConnectionID)))
	b = append(b, c.ConnectionID...)
	return append(b, c.Data...)
}

func decodeCommand(b []byte) (websocket.Command, error) {
	if len(b) < 2 {
		return websocket.Command{}, errors.New("short command")
	}
	var c websocket.Command
	switch b[0] {
	case 'p':
		c.Op = websocket.OpPost
	case 'd':
		c.Op = websocket.OpDelete
	default:
		return c, fmt.Errorf("unknown op %q", b[0])
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > uint64(len(b)-1-k) {
		return c, errors.New("bad id length")
	}
	rest := b[1+k:]
	c.ConnectionID = string(rest[:n])
	c.Data = rest[n:]
	return c, nil
}
