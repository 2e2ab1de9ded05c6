package websocket

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico/reqctx"
)

// Function adapts fn into a WebSocket route integration, the model's
// Lambda proxy integration for WebSocket APIs. In is the event type:
// events.APIGatewayWebsocketProxyRequest or any type JSON-compatible with
// it. Out is the response: events.APIGatewayProxyResponse, or any value
// JSON-compatible with it (an object with statusCode and body), or any
// other JSON value, taken as a 200 whose body is the value's JSON text.
//
// On $connect a status of 300 or more refuses the connection with that
// status. On a route with a route response the body is sent back to the
// client. An error from fn answers 502 (the client gets the gateway's
// "Internal server error" message); the error is logged with the request
// id. The handler is safe for concurrent use.
func Function[In, Out any](fn func(context.Context, In) (Out, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := buildEvent(r)
		if err != nil {
			reqctx.WriteError(w, r, reqctx.NewError(reqctx.BadRequestBody, err))
			return
		}
		var in In
		if p, ok := any(&in).(*events.APIGatewayWebsocketProxyRequest); ok {
			*p = *ev
		} else {
			b, err := json.Marshal(ev)
			if err == nil {
				err = json.Unmarshal(b, &in)
			}
			if err != nil {
				reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("the function cannot take the event: %w", err)))
				return
			}
		}
		out, err := fn(r.Context(), in)
		if err != nil {
			slog.Default().Error("portico: websocket function returned an error", "requestId", ev.RequestContext.RequestID, "err", err)
			reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, err))
			return
		}
		resp, err := functionResponse(out)
		if err != nil {
			slog.Default().Error("portico: malformed websocket function response", "requestId", ev.RequestContext.RequestID, "err", err)
			reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, err))
			return
		}
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		status := resp.StatusCode
		if status == 0 {
			status = http.StatusOK
		}
		body := []byte(resp.Body)
		if resp.IsBase64Encoded {
			if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
				reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("malformed function response: body: %w", err)))
				return
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// functionResponse reads a function's result as a proxy response.
func functionResponse(out any) (events.APIGatewayProxyResponse, error) {
	switch o := out.(type) {
	case events.APIGatewayProxyResponse:
		return o, nil
	case *events.APIGatewayProxyResponse:
		if o == nil {
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}
		return *o, nil
	}
	var raw []byte
	switch o := out.(type) {
	case json.RawMessage:
		raw = o
	case []byte:
		raw = o
	default:
		b, err := json.Marshal(out)
		if err != nil {
			return events.APIGatewayProxyResponse{}, fmt.Errorf("malformed function response: %w", err)
		}
		raw = b
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) == nil {
		if _, ok := probe["statusCode"]; ok {
			var resp events.APIGatewayProxyResponse
			if err := json.Unmarshal(raw, &resp); err != nil {
				return resp, fmt.Errorf("malformed function response: %w", err)
			}
			if resp.StatusCode < 100 || resp.StatusCode > 599 {
				return resp, fmt.Errorf("malformed function response: statusCode %d", resp.StatusCode)
			}
			return resp, nil
		}
	}
	if !json.Valid(raw) {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("malformed function response: not JSON")
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: string(raw)}, nil
}

// buildEvent builds the model's WebSocket event for a request served by
// [Server]: the body is the message, the event is in the context.
func buildEvent(r *http.Request) (*events.APIGatewayWebsocketProxyRequest, error) {
	wev := EventFrom(r.Context())
	if wev == nil {
		return nil, fmt.Errorf("not a WebSocket event: the handler must be a route integration")
	}
	rc := reqctx.From(r.Context())
	if rc == nil {
		rc = &reqctx.Context{}
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("reading the message: %w", err)
		}
		body = b
	}
	ev := &events.APIGatewayWebsocketProxyRequest{
		StageVariables: maps.Clone(rc.StageVariables),
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			AccountID:         rc.AccountID,
			Stage:             rc.Stage,
			RequestID:         rc.RequestID,
			APIID:             rc.APIID,
			ConnectedAt:       wev.ConnectedAt.UnixMilli(),
			ConnectionID:      wev.ConnectionID,
			DomainName:        rc.DomainName,
			EventType:         wev.EventType,
			ExtendedRequestID: rc.ExtendedRequestID,
			MessageDirection:  "IN",
			RequestTime:       wev.RequestTime.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch:  wev.RequestTime.UnixMilli(),
			RouteKey:          wev.RouteKey,
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  rc.Identity.SourceIP,
				UserAgent: rc.Identity.UserAgent,
				AccessKey: rc.Identity.AccessKey,
				Caller:    rc.Identity.Caller,
				User:      rc.Identity.User,
				UserArn:   rc.Identity.UserARN,
				AccountID: rc.Identity.AccountID,
				APIKey:    rc.Identity.APIKey,
				APIKeyID:  rc.Identity.APIKeyID,
			},
		},
	}
	if m := authorizerMap(rc); m != nil {
		ev.RequestContext.Authorizer = m
	}
	if wev.MessageID != "" {
		ev.RequestContext.MessageID = wev.MessageID
	}
	switch wev.EventType {
	case EventConnect:
		if len(r.Header) > 0 {
			ev.Headers = make(map[string]string, len(r.Header))
			ev.MultiValueHeaders = make(map[string][]string, len(r.Header))
			for k, v := range r.Header {
				ev.Headers[k] = v[len(v)-1]
				ev.MultiValueHeaders[k] = append([]string(nil), v...)
			}
		}
		if q := r.URL.Query(); len(q) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(q))
			ev.MultiValueQueryStringParameters = make(map[string][]string, len(q))
			for k, v := range q {
				ev.QueryStringParameters[k] = v[len(v)-1]
				ev.MultiValueQueryStringParameters[k] = append([]string(nil), v...)
			}
		}
	case EventDisconnect:
		ev.RequestContext.DisconnectStatusCode = int64(wev.DisconnectStatusCode)
		reason := wev.DisconnectReason
		ev.RequestContext.DisconnectReason = &reason
	}
	if wev.Binary {
		ev.Body = base64.StdEncoding.EncodeToString(body)
		ev.IsBase64Encoded = true
	} else {
		ev.Body = string(body)
	}
	return ev, nil
}

// authorizerMap is the requestContext.authorizer of the model's events:
// the custom authorizer's context and principalId, or a JWT's claims.
func authorizerMap(rc *reqctx.Context) map[string]any {
	a := rc.Authorizer
	switch a.Kind {
	case "", "iam":
		return nil
	case "jwt":
		return map[string]any{"claims": maps.Clone(a.Claims), "scopes": a.Scopes}
	}
	m := make(map[string]any, len(a.Context)+2)
	maps.Copy(m, a.Context)
	if a.PrincipalID != "" {
		m["principalId"] = a.PrincipalID
	}
	m["integrationLatency"] = rc.AuthorizerLatency.Milliseconds()
	return m
}
