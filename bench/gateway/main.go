// Command gateway is the load harness's Portico: one stage with one HTTP
// proxy route in front of the backend, no other features on.
package main

import (
	"flag"
	"io"
	"log"
	"log/slog"
	"net/http"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9103", "listen address")
	backend := flag.String("backend", "127.0.0.1:9101", "backend host:port")
	flag.Parse()
	gw, err := portico.New(portico.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		log.Fatal(err)
	}
	api := portico.NewAPI("bench", portico.HTTP)
	api.Handle("ANY /{proxy+}", &integration.HTTPProxy{Target: "http://${stageVariables.backend}/{proxy}"})
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod", Variables: map[string]string{"backend": *backend}}); err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(*addr, gw))
}
