// Command gateway is the load harness's Portico: a gateway with one stage
// and one HTTP proxy route (ANY /{proxy+}) in front of the backend, no
// other features on. With -standalone it serves the integration.HTTPProxy
// alone, without the gateway around it.
package main

import (
	"flag"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9103", "listen address")
	backend := flag.String("backend", "127.0.0.1:9101", "backend host:port")
	standalone := flag.Bool("standalone", false, "serve the HTTPProxy integration alone, without the gateway")
	flag.Parse()
	var h http.Handler
	if *standalone {
		h = &integration.HTTPProxy{Target: "http://" + *backend + "/{proxy}"}
		mux := http.NewServeMux()
		mux.Handle("/prod/{proxy...}", h)
		h = mux
	} else {
		// The account limit is lifted (the default, 10,000 requests/s,
		// would answer most of the load with 429): the bucket is still
		// consulted on every request, as it is in any gateway.
		gw, err := portico.New(portico.WithLogger(slog.New(slog.DiscardHandler)),
			portico.WithAccountThrottle(1e9, 1<<30))
		if err != nil {
			log.Fatal(err)
		}
		api := portico.NewAPI("bench", portico.HTTP)
		api.Handle("ANY /{proxy+}", &integration.HTTPProxy{Target: "http://${stageVariables.backend}/{proxy}"})
		if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod", Variables: map[string]string{"backend": *backend}}); err != nil {
			log.Fatal(err)
		}
		h = gw
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
