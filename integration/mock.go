package integration

import (
	"fmt"
	"net/http"
	"strconv"
)

// Mock answers every request with a fixed response, the model gateway's
// MOCK integration. Body and header values may refer to stage variables as
// ${stageVariables.name}; they are substituted once per deployment
// ([Mock.BindStage]). A Mock is safe for concurrent use.
type Mock struct {
	// Status is the status code; 0 means 200.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the response body.
	Body string
}

var _ Binder = Mock{}

// ServeHTTP writes the mock response.
func (m Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range m.Header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(m.Body)))
	status := m.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(m.Body))
	}
}

// BindStage returns a copy of m with the stage variables substituted in its
// body and header values. A reference to an undefined variable, or a status
// outside 100–599, is an error.
func (m Mock) BindStage(vars map[string]string) (http.Handler, error) {
	if m.Status != 0 && (m.Status < 100 || m.Status > 599) {
		return nil, fmt.Errorf("mock: status %d out of range 100-599", m.Status)
	}
	body, err := ExpandStageVariables(m.Body, vars)
	if err != nil {
		return nil, fmt.Errorf("mock body: %w", err)
	}
	out := Mock{Status: m.Status, Body: body, Header: make(http.Header, len(m.Header))}
	for k, vs := range m.Header {
		for _, v := range vs {
			x, err := ExpandStageVariables(v, vars)
			if err != nil {
				return nil, fmt.Errorf("mock header %s: %w", k, err)
			}
			out.Header.Add(k, x)
		}
	}
	return out, nil
}
