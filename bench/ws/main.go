// Command ws is a bounded load program for Portico's WebSocket APIs, on
// loopback. It starts itself a second time as the server (a gateway with a
// WebSocket API whose $default route echoes), so that the server's memory
// is measured apart from the clients', then:
//
//  1. opens -conns idle connections and reports the server's memory per
//     connection (RSS and Go heap+stacks, after a GC) and connections per
//     GiB;
//
//  2. broadcasts one message to every connection through the in-process
//     @connections API and reports how long until every client had it;
//
//  3. has -echo-clients of the connections send -echo-msgs messages each,
//     one at a time, and reports the round-trip p50 and p99.
//
//     go run ./bench/ws -conns 10000 -echo-clients 1000 -echo-msgs 20
//
// Everything is bounded by -timeout (default 3 min). Each process needs a
// file descriptor per connection plus a few: check `ulimit -n`.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico"
)

func main() {
	role := flag.String("role", "client", "client (runs the load) or server (started by the client)")
	conns := flag.Int("conns", 10000, "idle connections to open")
	echoClients := flag.Int("echo-clients", 1000, "connections that send echo messages concurrently")
	echoMsgs := flag.Int("echo-msgs", 20, "messages each echo client sends")
	timeout := flag.Duration("timeout", 3*time.Minute, "bound on the whole run")
	flag.Parse()
	if *role == "server" {
		serve()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *conns, min(*echoClients, *conns), *echoMsgs); err != nil {
		log.Fatal(err)
	}
}

// serve runs the gateway and an admin endpoint until stdin closes.
func serve() {
	gw, err := portico.New()
	if err != nil {
		log.Fatal(err)
	}
	api := portico.NewAPI("bench", portico.WebSocket)
	api.HandleFunc("$default", func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) })
	if err := gw.SetWebSocketSettings("bench", portico.WebSocketSettings{RouteResponses: []string{"$default"}}); err != nil {
		log.Fatal(err)
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/admin/stats", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s, _ := gw.WebSocket()
		_ = json.NewEncoder(w).Encode(map[string]uint64{
			"conns": uint64(s.Len()), "heap": ms.HeapInuse, "stacks": ms.StackInuse, "sys": ms.Sys,
			"rss": rss(), "goroutines": uint64(runtime.NumGoroutine()),
		})
	})
	mux.HandleFunc("/admin/broadcast", func(w http.ResponseWriter, r *http.Request) {
		s, _ := gw.WebSocket()
		msg := []byte(r.URL.Query().Get("msg"))
		ids := s.ConnectionIDs()
		start := time.Now()
		var wg sync.WaitGroup
		var failed atomic.Int64
		const workers = 8 // the broadcaster's own concurrency
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := i; j < len(ids); j += workers {
					if err := s.Post(r.Context(), ids[j], msg); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		fmt.Fprintf(w, `{"posted":%d,"failed":%d,"ms":%.1f}`, len(ids), failed.Load(), float64(time.Since(start).Microseconds())/1000)
	})
	mux.HandleFunc("/admin/heap", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		_ = pprof.Lookup("heap").WriteTo(w, 0)
	})
	mux.Handle("/", gw)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin) // the client closes stdin when done
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = gw.Shutdown(ctx)
}

// rss returns the process's resident set size in bytes (Linux), or 0.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

type stats struct{ Conns, Heap, Stacks, Sys, RSS, Goroutines uint64 }

func getStats(ctx context.Context, base string) (stats, error) {
	var s stats
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/admin/stats", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer res.Body.Close()
	var m map[string]uint64
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		return s, err
	}
	return stats{m["conns"], m["heap"], m["stacks"], m["sys"], m["rss"], m["goroutines"]}, nil
}

func run(ctx context.Context, n, echoN, msgs int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "-role", "server")
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("server did not start: %w", err)
	}
	base := "http://" + strings.TrimSpace(addr)
	wsURL := "ws://" + strings.TrimSpace(addr) + "/prod"
	before, err := getStats(ctx, base)
	if err != nil {
		return err
	}

	// 1. Idle connections.
	clients := make([]*cws.Conn, n)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, _, err := cws.Dial(ctx, wsURL, nil)
				if err != nil {
					errc <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
				clients[i] = c
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	defer func() {
		for _, c := range clients {
			_ = c.CloseNow()
		}
	}()
	opened := time.Since(start)
	after, err := getStats(ctx, base)
	if err != nil {
		return err
	}
	perRSS := float64(after.RSS-before.RSS) / float64(n)
	perGo := float64(after.Heap+after.Stacks-before.Heap-before.Stacks) / float64(n)
	fmt.Printf("idle: %d connections opened in %v; server holds %d, %d goroutines\n", n, opened.Round(time.Millisecond), after.Conns, after.Goroutines)
	fmt.Printf("idle: server RSS %.1f MiB (+%.1f KiB/conn), Go heap+stacks +%.1f KiB/conn -> %.0f connections/GiB by RSS, %.0f by heap+stacks\n",
		float64(after.RSS)/(1<<20), perRSS/1024, perGo/1024, float64(1<<30)/perRSS, float64(1<<30)/perGo)

	if p := os.Getenv("WSBENCH_HEAP"); p != "" {
		if res, err := http.Get(base + "/admin/heap"); err == nil {
			f, _ := os.Create(p)
			_, _ = io.Copy(f, res.Body)
			f.Close()
			res.Body.Close()
		}
	}

	// 2. Broadcast: every client reads one message.
	var got sync.WaitGroup
	got.Add(n)
	var lastMu sync.Mutex
	var last time.Time
	for _, c := range clients {
		go func() {
			defer got.Done()
			_, b, err := c.Read(ctx)
			if err == nil && string(b) == "broadcast" {
				lastMu.Lock()
				last = time.Now()
				lastMu.Unlock()
			}
		}()
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/admin/broadcast?msg=broadcast", nil)
	t0 := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	got.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("broadcast: %w", ctx.Err())
	}
	fmt.Printf("broadcast: to %d connections: posted %s; last client had it %v after the call\n", n, body, last.Sub(t0).Round(time.Millisecond))

	// 3. Echo round trips from echoN concurrent clients.
	rtts := make([][]time.Duration, echoN)
	var ewg sync.WaitGroup
	eerr := make(chan error, echoN)
	t0 = time.Now()
	for i := range echoN {
		ewg.Add(1)
		go func() {
			defer ewg.Done()
			c := clients[i]
			msg := []byte(`{"action":"echo","i":` + strconv.Itoa(i) + `}`)
			for range msgs {
				s := time.Now()
				if err := c.Write(ctx, cws.MessageText, msg); err != nil {
					eerr <- err
					return
				}
				_, b, err := c.Read(ctx)
				if err != nil || string(b) != string(msg) {
					eerr <- fmt.Errorf("echo %d: %q, %v", i, b, err)
					return
				}
				rtts[i] = append(rtts[i], time.Since(s))
			}
		}()
	}
	ewg.Wait()
	close(eerr)
	if err := <-eerr; err != nil {
		return err
	}
	all := slices.Concat(rtts...)
	slices.Sort(all)
	if len(all) == 0 {
		return errors.New("no echo samples")
	}
	el := time.Since(t0)
	fmt.Printf("echo: %d clients x %d messages = %d round trips in %v (%.0f/s): p50 %v, p99 %v, max %v\n",
		echoN, msgs, len(all), el.Round(time.Millisecond), float64(len(all))/el.Seconds(),
		all[len(all)*50/100].Round(time.Microsecond), all[len(all)*99/100].Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
	return nil
}
