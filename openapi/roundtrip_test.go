package openapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/openapi"
)

// registry holds a function for every name the test documents use.
func registry() integration.Registry {
	reg := integration.Registry{}
	for _, n := range []string{"createPet", "deletePet:live", "authorize", "createOrder", "tenantAuth", "notes", "listThings"} {
		name := n
		reg[n] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"function":%q}`, name)
		})
	}
	return reg
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// describeHandler renders an integration for comparison: functions by
// registry name, HTTP backends by type and settings, mocks by value.
func describeHandler(h http.Handler) string {
	switch h := h.(type) {
	case nil:
		return "nil"
	case *integration.FunctionRef:
		return "function " + h.Name()
	case *integration.HTTP:
		return fmt.Sprintf("http %s tls=%+v", h.Target, h.TLS)
	case *integration.HTTPProxy:
		return fmt.Sprintf("http_proxy %s tls=%+v", h.Target, h.TLS)
	case integration.Mock:
		return fmt.Sprintf("mock %+v", h)
	}
	return fmt.Sprintf("%T", h)
}

// normJSON re-encodes JSON with sorted keys, for comparing documents.
func normJSON(t testing.TB, b []byte) string {
	t.Helper()
	if len(b) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// equalAPIs compares two imported APIs field by field, reporting every
// difference.
func equalAPIs(t *testing.T, a, b *portico.API) {
	t.Helper()
	check := func(what string, x, y any) {
		t.Helper()
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s differs:\n first: %#v\nsecond: %#v", what, x, y)
		}
	}
	check("Name", a.Name, b.Name)
	check("Type", a.Type, b.Type)
	check("Description", a.Description, b.Description)
	check("BinaryMediaTypes", a.BinaryMediaTypes, b.BinaryMediaTypes)
	check("GatewayResponses", a.GatewayResponses, b.GatewayResponses)
	check("CORS", a.CORS, b.CORS)
	check("Auth.APIKeySource", a.Auth.APIKeySource, b.Auth.APIKeySource)
	check("Auth.ResourcePolicy", normJSON(t, a.Auth.ResourcePolicy), normJSON(t, b.Auth.ResourcePolicy))
	check("authorizer names", slices.Sorted(mapsKeys(a.Auth.Authorizers)), slices.Sorted(mapsKeys(b.Auth.Authorizers)))
	for name, x := range a.Auth.Authorizers {
		y := b.Auth.Authorizers[name]
		check("authorizer "+name+" integration", describeHandler(x.Integration), describeHandler(y.Integration))
		x.Integration, y.Integration = nil, nil
		check("authorizer "+name, x, y)
	}
	check("Transform.CompressResponses", a.Transform.CompressResponses, b.Transform.CompressResponses)
	check("Transform.MinimumCompressionSize", a.Transform.MinimumCompressionSize, b.Transform.MinimumCompressionSize)
	check("model names", slices.Sorted(mapsKeys(a.Transform.Models)), slices.Sorted(mapsKeys(b.Transform.Models)))
	for name, m := range a.Transform.Models {
		check("model "+name, normJSON(t, m), normJSON(t, b.Transform.Models[name]))
	}
	routes := func(api *portico.API) map[string]portico.Route {
		m := map[string]portico.Route{}
		for _, r := range api.Routes {
			m[r.Key()] = r
		}
		return m
	}
	ra, rb := routes(a), routes(b)
	check("route keys", slices.Sorted(mapsKeys(ra)), slices.Sorted(mapsKeys(rb)))
	for key, x := range ra {
		y := rb[key]
		check(key+" integration", describeHandler(x.Integration), describeHandler(y.Integration))
		check(key+" OperationName", x.OperationName, y.OperationName)
		check(key+" Timeout", x.Timeout, y.Timeout)
		check(key+" Auth", x.Auth, y.Auth)
		check(key+" Validate", x.Transform.Validate, y.Transform.Validate)
		check(key+" Map", x.Transform.Map, y.Transform.Map)
		check(key+" CORS", x.CORS, y.CORS)
	}
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestRoundTrip imports documents, exports them in every spec and format,
// imports the exports, and compares the two APIs field by field.
func TestRoundTrip(t *testing.T) {
	docs := []string{"petstore-extensions.yaml", "swagger-extensions.json", "http-api-31.yaml", "plain-30.json"}
	for _, doc := range docs {
		for _, spec := range []openapi.Spec{openapi.OpenAPI30, openapi.Swagger20} {
			for _, format := range []openapi.Format{openapi.JSON, openapi.YAML} {
				t.Run(fmt.Sprintf("%s/%s/%s", doc, spec, format), func(t *testing.T) {
					reg := registry()
					first, err := openapi.Import(readTestdata(t, doc), openapi.ImportOptions{Registry: reg})
					if err != nil {
						t.Fatal(err)
					}
					out, warns, err := openapi.Export(first.API, openapi.ExportOptions{Spec: spec, Format: format})
					if err != nil {
						t.Fatal(err)
					}
					for _, w := range warns {
						t.Logf("export warning: %s", w)
					}
					second, err := openapi.Import(out, openapi.ImportOptions{Registry: reg})
					if err != nil {
						t.Fatalf("re-import: %v\n%s", err, out)
					}
					wantVersion := "3.0"
					if spec == openapi.Swagger20 {
						wantVersion = "2.0"
					}
					if second.Version != wantVersion {
						t.Errorf("re-imported version %q, want %q", second.Version, wantVersion)
					}
					equalAPIs(t, first.API, second.API)
					if t.Failed() {
						t.Logf("export:\n%s", out)
					}
					// Exports are deterministic.
					again, _, _ := openapi.Export(first.API, openapi.ExportOptions{Spec: spec, Format: format})
					if !bytes.Equal(out, again) {
						t.Error("two exports of one API differ")
					}
					if format == openapi.YAML && bytes.HasPrefix(bytes.TrimSpace(out), []byte("{")) {
						t.Error("YAML export is JSON")
					}
					_ = strings.TrimSpace
				})
			}
		}
	}
}
