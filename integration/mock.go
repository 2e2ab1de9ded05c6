package integration

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/portico-gw/portico/reqctx"
)

// Mock answers every request with a fixed response, the model gateway's MOCK
// integration. Body and header values may refer to stage variables as
// ${stageVariables.name}; the gateway substitutes them once per deployment
// through [Mock.BindStage] (ServeHTTP on an unbound Mock sends them as
// written). The zero Mock answers 200 with an empty JSON-typed body. A Mock
// is safe for concurrent use as long as its Header is not changed.
type Mock struct {
	// Status is the status code, 200–599; 0 means 200.
	Status int
	// Header holds the response headers. Without a Content-Type the
	// response is application/json, as the model gateway's.
	Header http.Header
	// Body is the response body, sent as is.
	Body string
}

var (
	_ http.Handler = Mock{}
	_ Binder       = Mock{}
)

// ServeHTTP writes the mock response. A Status outside 200–599 is answered
// with 500 API_CONFIGURATION_ERROR ([Mock.BindStage] rejects it at deploy
// time).
func (m Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, err := m.status()
	if err != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, err))
		return
	}
	h := w.Header()
	for k, v := range m.Header {
		h[k] = v
	}
	if len(h["Content-Type"]) == 0 {
		h.Set("Content-Type", "application/json")
	}
	if rc := reqctx.From(r.Context()); rc != nil {
		rc.IntegrationStatus = status
	}
	bodyAllowed := status != http.StatusNoContent && status != http.StatusNotModified
	if bodyAllowed {
		h.Set("Content-Length", strconv.Itoa(len(m.Body)))
	}
	w.WriteHeader(status)
	if bodyAllowed && r.Method != http.MethodHead {
		_, _ = io.WriteString(w, m.Body)
	}
}

func (m Mock) status() (int, error) {
	switch {
	case m.Status == 0:
		return http.StatusOK, nil
	case m.Status < 200 || m.Status > 599:
		return 0, fmt.Errorf("mock: status %d out of range 200-599", m.Status)
	}
	return m.Status, nil
}

// BindStage returns a copy of m with the stage variables vars substituted
// in its body and header values. It returns an error naming the variable
// when m refers to one vars lacks, and an error for a Status outside
// 200–599. m itself is not changed.
func (m Mock) BindStage(vars map[string]string) (http.Handler, error) {
	if _, err := m.status(); err != nil {
		return nil, err
	}
	body, err := ExpandStageVariables(m.Body, vars)
	if err != nil {
		return nil, fmt.Errorf("mock body: %w", err)
	}
	out := Mock{Status: m.Status, Body: body, Header: make(http.Header, len(m.Header))}
	for k, vs := range m.Header {
		xs := make([]string, len(vs))
		for i, v := range vs {
			if xs[i], err = ExpandStageVariables(v, vars); err != nil {
				return nil, fmt.Errorf("mock header %s: %w", k, err)
			}
		}
		out.Header[k] = xs
	}
	return out, nil
}
