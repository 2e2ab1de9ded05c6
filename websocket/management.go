package websocket

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/reqctx"
)

// ErrBadConnectionsPath is wrapped by the errors of [ParseConnectionsPath].
var ErrBadConnectionsPath = errors.New("websocket: bad @connections path")

// ParseConnectionsPath reads the escaped path below a stage. ok is false
// when it is not an @connections path; otherwise id is the connection id,
// or err says what is wrong. "@" may be escaped ("%40connections", as the
// AWS SDKs send it), leading slashes are tolerated ("//@connections/…",
// from an endpoint with a trailing slash), and the id is one segment,
// unescaped once ("L0S%3D" is "L0S=").
func ParseConnectionsPath(escaped string) (id string, ok bool, err error) {
	p := strings.TrimLeft(escaped, "/")
	seg, rest, _ := strings.Cut(p, "/")
	if seg != "@connections" && !strings.EqualFold(seg, "%40connections") {
		return "", false, nil
	}
	if rest == "" {
		return "", true, fmt.Errorf("%w: no connection id", ErrBadConnectionsPath)
	}
	if strings.Contains(rest, "/") {
		return "", true, fmt.Errorf("%w: the connection id must be one path segment", ErrBadConnectionsPath)
	}
	id, err = url.PathUnescape(rest)
	if err != nil {
		return "", true, fmt.Errorf("%w: %v", ErrBadConnectionsPath, err)
	}
	if id == "" || len(id) > 128 {
		return "", true, fmt.Errorf("%w: connection id must have 1-128 characters", ErrBadConnectionsPath)
	}
	return id, true, nil
}

// ConnectionsHandler serves the @connections API at any path ending in
// "@connections/{id}" (see [ParseConnectionsPath]), with no authentication
// of its own: wrap it in one (the root package checks SigV4).
func (s *Server) ConnectionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		if i := strings.LastIndex(strings.ToLower(p), "connections/"); i > 0 && (p[i-1] == '@' || strings.HasSuffix(strings.ToLower(p[:i]), "%40")) {
			p = p[strings.LastIndex(p[:i], "/"):]
		}
		id, ok, err := ParseConnectionsPath(p)
		if !ok || err != nil {
			writeError(w, r, reqctx.ResourceNotFound, "", fmt.Errorf("%w: %q", ErrBadConnectionsPath, r.URL.EscapedPath()))
			return
		}
		s.ServeConnection(w, r, id)
	})
}

// connectionJSON is the GetConnection answer: camelCase keys and ISO-8601
// times, as the AWS SDKs parse it.
type connectionJSON struct {
	ConnectedAt  string       `json:"connectedAt"`
	Identity     identityJSON `json:"identity"`
	LastActiveAt string       `json:"lastActiveAt"`
}

type identityJSON struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

const isoMillis = "2006-01-02T15:04:05.000Z"

// ServeConnection serves one @connections call for a connection: POST
// (PostToConnection: the body is the message; 200), GET (GetConnection:
// JSON; 200) and DELETE (DeleteConnection; 204). A gone connection answers
// 410 GoneException, a body over the limit 413, another method 405; the
// errors carry the x-amzn-ErrorType header the AWS SDKs read. When r's
// reqctx.Context names an API id and stage (as behind a gateway), only the
// connections made to that API stage are visible: others are 410.
func (s *Server) ServeConnection(w http.ResponseWriter, r *http.Request, id string) {
	var sc scope
	if rc := reqctx.From(r.Context()); rc != nil && rc.APIID != "" {
		sc = scope{apiID: rc.APIID, stage: rc.Stage}
	}
	var err error
	switch r.Method {
	case http.MethodPost:
		var body []byte
		body, err = io.ReadAll(io.LimitReader(r.Body, s.maxPost+1))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				err = ErrTooLarge
			} else {
				writeError(w, r, reqctx.BadRequestBody, "", err)
				return
			}
		} else if int64(len(body)) > s.maxPost {
			err = ErrTooLarge
		} else if err = s.post(r.Context(), id, body, sc); err == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
	case http.MethodGet:
		var info ConnectionInfo
		if _, info, err = s.find(r.Context(), id, sc); err == nil {
			b, _ := json.Marshal(connectionJSON{
				ConnectedAt:  info.ConnectedAt.UTC().Format(isoMillis),
				Identity:     identityJSON{SourceIP: info.SourceIP, UserAgent: info.UserAgent},
				LastActiveAt: info.LastActiveAt.UTC().Format(isoMillis),
			})
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return
		}
	case http.MethodDelete:
		if err = s.disconnect(r.Context(), id, sc); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	default:
		e := reqctx.NewError(reqctx.MethodNotAllowed, nil)
		e.Header = http.Header{"Allow": {"DELETE, GET, POST"}}
		reqctx.WriteError(w, r, e)
		return
	}
	switch {
	case errors.Is(err, ErrGone):
		writeError(w, r, reqctx.Gone, "", err)
	case errors.Is(err, ErrTooLarge):
		writeError(w, r, reqctx.RequestTooLarge, "", err)
	case errors.Is(err, ErrClosed):
		writeError(w, r, reqctx.ServiceUnavailable, "", err)
	default:
		s.logger.Error("portico: @connections call failed", "connectionId", id, "err", err)
		writeError(w, r, reqctx.Default5XX, "", err)
	}
}
