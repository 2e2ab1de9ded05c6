// Command transform exposes a legacy backend that speaks form encoding as a
// clean JSON API, with request validation, VTL and Go mapping templates,
// integration responses and response compression; and runs a VTL template
// exported from the model gateway (its "method request passthrough") as it
// was written.
//
//	go run ./examples/transform
//	curl -s -X POST http://127.0.0.1:8080/prod/pets -H 'Content-Type: application/json' -d '{"name":"Rex","kind":"dog","age":3}'
//	curl -s -X POST http://127.0.0.1:8080/prod/pets -H 'Content-Type: application/json' -d '{"kind":"dog","age":-1}'
//	curl -s http://127.0.0.1:8080/prod/pets/1
//	curl -s http://127.0.0.1:8080/prod/pets/99
//	curl -s -X POST 'http://127.0.0.1:8080/prod/echo/7?debug=1' -H 'Content-Type: application/json' -d '{"hello":"world"}'
//
// The legacy backend takes "name=Rex&kind=dog" and answers
// "id=1&name=Rex&kind=dog&status=created"; errors come back as
// "error=not+found" with status 404. The API above it speaks JSON only: the
// request template turns JSON into form encoding, the response templates
// turn form encoding back into JSON, and a 4xx from the backend becomes a
// JSON error with the status the API documents.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/transform"
)

// legacy is the backend: form-encoded in, form-encoded out.
type legacy struct {
	mu   sync.Mutex
	pets []url.Values
}

func (l *legacy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
	l.mu.Lock()
	defer l.mu.Unlock()
	switch r.Method {
	case http.MethodPost:
		if err := r.ParseForm(); err != nil || r.PostForm.Get("name") == "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "error=bad+form")
			return
		}
		p := url.Values{
			"id":   {strconv.Itoa(len(l.pets) + 1)},
			"name": {r.PostForm.Get("name")},
			"kind": {r.PostForm.Get("kind")},
			"age":  {r.PostForm.Get("age")},
		}
		l.pets = append(l.pets, p)
		w.WriteHeader(http.StatusOK) // the legacy system never says 201
		fmt.Fprint(w, p.Encode()+"&status=created")
	default:
		i, err := strconv.Atoi(r.URL.Query().Get("id"))
		if err != nil || i < 1 || i > len(l.pets) {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "error=not+found")
			return
		}
		fmt.Fprint(w, l.pets[i-1].Encode())
	}
}

// echo answers with the body it received.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.Copy(w, r.Body)
})

// formToJSON is a VTL response template that turns a form-encoded body into
// a JSON object.
const formToJSON = `{
#foreach($pair in $input.path('$').split('&'))
#set($kv = $pair.split('='))
#if($kv.size() == 2)
  "$util.urlDecode($kv[0])": "$util.escapeJavaScript($util.urlDecode($kv[1]))"#if($foreach.hasNext),#end
#end
#end
}`

// methodRequestPassthrough is the model gateway's "Method Request
// passthrough" template, exactly as its console generates it.
const methodRequestPassthrough = `##  See https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
##  This template will pass through all parameters including path, querystring, header, stage variables, and context through to the integration endpoint via the body/payload
#set($allParams = $input.params())
{
"body-json" : $input.json('$'),
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"stage-variables" : {
#foreach($key in $stageVariables.keySet())
"$key" : "$util.escapeJavaScript($stageVariables.get($key))"
    #if($foreach.hasNext),#end
#end
},
"context" : {
    "account-id" : "$context.identity.accountId",
    "api-id" : "$context.apiId",
    "api-key" : "$context.identity.apiKey",
    "authorizer-principal-id" : "$context.authorizer.principalId",
    "caller" : "$context.identity.caller",
    "cognito-authentication-provider" : "$context.identity.cognitoAuthenticationProvider",
    "cognito-authentication-type" : "$context.identity.cognitoAuthenticationType",
    "cognito-identity-id" : "$context.identity.cognitoIdentityId",
    "cognito-identity-pool-id" : "$context.identity.cognitoIdentityPoolId",
    "http-method" : "$context.httpMethod",
    "stage" : "$context.stage",
    "source-ip" : "$context.identity.sourceIp",
    "user" : "$context.identity.user",
    "user-agent" : "$context.identity.userAgent",
    "user-arn" : "$context.identity.userArn",
    "request-id" : "$context.requestId",
    "resource-id" : "$context.resourceId",
    "resource-path" : "$context.resourcePath"
    }
}
`

// newGateway builds the API on the stage "prod": models on the API,
// validation and mapping on each route, compression for the whole API.
func newGateway(backend http.Handler) (*portico.Gateway, error) {
	gw, err := portico.New()
	if err != nil {
		return nil, err
	}
	stageVars := map[string]string{"legacyPath": "/cgi-bin/pets.pl"}

	api := portico.NewAPI("pets", portico.REST)
	api.Transform = portico.APITransform{
		Models: map[string]json.RawMessage{
			"NewPet": json.RawMessage(`{
				"$schema": "http://json-schema.org/draft-04/schema#",
				"type": "object",
				"required": ["name", "kind"],
				"additionalProperties": false,
				"properties": {
					"name": {"type": "string", "minLength": 1, "maxLength": 40},
					"kind": {"enum": ["dog", "cat", "fish"]},
					"age": {"type": "integer", "minimum": 0, "maximum": 40}
				}
			}`),
		},
		CompressResponses:      true,
		MinimumCompressionSize: 1024,
	}

	errorResponse := transform.Response{
		SelectionPattern: `4\d\d`,
		StatusCode:       404,
		Templates: map[string]string{
			"application/json": `#set($e = $util.urlDecode($input.path('$').replace('error=', '')))
#if($input.path('$').contains('not+found'))
{"message": "no such pet"}
#else
#set($context.responseOverride.status = 400)
{"message": "$util.escapeJavaScript($e)"}
#end`,
		},
	}

	// POST /pets: JSON in, validated; form to the backend; JSON out, 201.
	api.AddRoute(portico.Route{Method: "POST", Path: "/pets", Integration: backend,
		Transform: portico.RouteTransform{
			Validate: transform.Validation{
				ValidateBody:  true,
				RequestModels: map[string]string{"application/json": "NewPet"},
			},
			Map: transform.Mapping{
				PassthroughBehavior: transform.Never,
				RequestParameters: map[string]string{
					"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'",
					"overwrite:path": "$stageVariables.legacyPath",
				},
				RequestTemplates: map[string]string{
					"application/json": `name=$util.urlEncode($input.path('$.name'))&kind=$util.urlEncode($input.path('$.kind'))#if($input.path('$.age'))&age=$input.path('$.age')#end`,
				},
				Responses: []transform.Response{errorResponse, {
					StatusCode: 201,
					Parameters: map[string]string{"method.response.header.X-Legacy-Status": "'created'"},
					Templates:  map[string]string{"application/json": formToJSON},
				}},
			},
		}})

	// GET /pets/{id}: the id becomes the backend's query string; the
	// response is mapped by a Go template.
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets/{id}", Integration: backend,
		Transform: portico.RouteTransform{Map: transform.Mapping{
			Language: transform.GoTemplate,
			RequestParameters: map[string]string{
				"integration.request.querystring.id": "method.request.path.id",
			},
			Responses: []transform.Response{
				{SelectionPattern: `404`, StatusCode: 404, Templates: map[string]string{"application/json": `{"message": "no such pet"}`}},
				{StatusCode: 200, Templates: map[string]string{"application/json": `{{- $f := parseForm (path "$") -}}
{"id": {{index $f "id" | int}}, "name": {{toJson (index $f "name")}}, "kind": {{toJson (index $f "kind")}}, "age": {{default "null" (index $f "age")}}}`}},
			},
		}}})

	// POST /echo/{id}: the exported passthrough template, as it was written,
	// in front of an integration that echoes what it receives.
	api.AddRoute(portico.Route{Method: "POST", Path: "/echo/{id}", Integration: echo,
		Transform: portico.RouteTransform{Map: transform.Mapping{
			RequestTemplates: map[string]string{"application/json": methodRequestPassthrough},
		}}})

	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod", Variables: stageVars}); err != nil {
		return nil, err
	}
	return gw, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	gw, err := newGateway(&legacy{})
	if err != nil {
		log.Fatal(err)
	}
	compress, err := transform.Compress(1024)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: compress(gw), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("serving on http://%s/prod", ln.Addr())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	_ = gw.Shutdown(shutdown)
}
