package portico

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/portico-gw/portico/transform"
)

// APITransform holds an API's models, response compression and the limits
// of its templates. The zero value defines no models and compresses
// nothing.
type APITransform struct {
	// Models are JSON Schema (draft 4) models by name (1–128 characters of
	// A-Z a-z 0-9 _ -), which routes name in RouteTransform.Validate. A
	// model refers to another with "$ref": "#/definitions/Name". Only the
	// models a route uses are compiled, at deploy; a bad one fails the
	// deploy naming the route.
	Models map[string]json.RawMessage
	// CompressResponses turns on response compression (zstd, br, gzip or
	// deflate, per Accept-Encoding) for responses of at least
	// MinimumCompressionSize bytes (0–10,485,760; 0 compresses all).
	CompressResponses      bool
	MinimumCompressionSize int
	// Limits bound templates and the bodies mappings buffer; zero fields
	// take the defaults of [transform.Limits] (300 KB templates, 10 MB
	// output and bodies, 1 s, 1000 loop iterations).
	Limits transform.Limits
}

// RouteTransform holds a route's validation and its request and response
// mapping. The zero value validates and maps nothing, and the route pays
// nothing for it.
type RouteTransform struct {
	// Validate checks the method request before the cache and the
	// integration (400 BAD_REQUEST_PARAMETERS / BAD_REQUEST_BODY) and,
	// optionally, the response.
	Validate transform.Validation
	// Map rewrites the request the integration sees and the response the
	// client gets: parameter mapping, templates, passthrough behaviour,
	// integration responses and content handling. Binary media types come
	// from [API.BinaryMediaTypes]; stage variables the mapping names must
	// be defined on the stage.
	Map transform.Mapping
}

// validationIsZero reports whether v asks for no check; mappingIsZero
// whether m changes nothing.
func validationIsZero(v *transform.Validation) bool {
	return !v.ValidateParameters && !v.ValidateBody && v.ResponseValidation == transform.ResponseValidationOff
}

func mappingIsZero(m *transform.Mapping) bool {
	return len(m.RequestParameters) == 0 && len(m.RequestTemplates) == 0 && len(m.Responses) == 0 &&
		m.ContentHandling == "" && (m.PassthroughBehavior == "" || m.PassthroughBehavior == transform.WhenNoMatch)
}

// transformValidate builds the validate step of a route: parameters and
// body against the route's models (and the response, if asked). It returns
// nil when the route validates nothing.
func (g *Gateway) transformValidate(d *Deployment, at *APITransform, t *RouteTransform) (func(http.Handler) http.Handler, error) {
	v := &t.Validate
	if validationIsZero(v) {
		return nil, nil
	}
	var names []string
	if v.ValidateBody {
		names = slices.AppendSeq(names, maps.Values(v.RequestModels))
	}
	if v.ResponseValidation != transform.ResponseValidationOff {
		for _, m := range v.ResponseModels {
			names = slices.AppendSeq(names, maps.Values(m))
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var models *transform.Models
	if len(names) > 0 {
		var err error
		if models, err = transform.CompileModels(at.Models, names...); err != nil {
			return nil, err
		}
	}
	val, err := transform.NewValidator(*v, models,
		transform.WithValidatorMaxBody(d.maxBody),
		transform.WithValidatorLogger(g.logger))
	if err != nil {
		return nil, err
	}
	return val.Handler, nil
}

// transformMap builds the map step of a route: it wraps the route's
// integration with its request and response mapping. It returns nil when
// the route maps nothing.
func (g *Gateway) transformMap(d *Deployment, at *APITransform, t *RouteTransform) (func(http.Handler) http.Handler, error) {
	if mappingIsZero(&t.Map) {
		return nil, nil
	}
	lim := at.Limits
	if lim.MaxBodyBytes == 0 {
		lim.MaxBodyBytes = d.maxBody
	}
	m, err := transform.NewMapper(t.Map,
		transform.WithBinaryMediaTypes(d.api.BinaryMediaTypes),
		transform.WithStageVariables(d.stage.Variables),
		transform.WithLimits(lim),
		transform.WithMapperLogger(g.logger))
	if err != nil {
		return nil, err
	}
	return m.Handler, nil
}

// transformCompress builds the compression step of an API's routes; nil
// when the API does not compress. It belongs outermost in the pipeline, so
// that cached responses are stored uncompressed and every client gets the
// encoding it accepts.
func (g *Gateway) transformCompress(at *APITransform) (func(http.Handler) http.Handler, error) {
	if !at.CompressResponses {
		if at.MinimumCompressionSize != 0 {
			return nil, errors.New("MinimumCompressionSize is set but CompressResponses is off")
		}
		return nil, nil
	}
	mw, err := transform.Compress(at.MinimumCompressionSize)
	if err != nil {
		return nil, fmt.Errorf("compression: %w", err)
	}
	return mw, nil
}

// compressStep, validateStep and mapStep are the transform steps of the
// pipeline (see [Gateway.pipeline]).
func (g *Gateway) compressStep(d *Deployment, _ *Route) (func(http.Handler) http.Handler, error) {
	return g.transformCompress(&d.api.Transform)
}

func (g *Gateway) validateStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	return g.transformValidate(d, &d.api.Transform, &rt.Transform)
}

func (g *Gateway) mapStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	return g.transformMap(d, &d.api.Transform, &rt.Transform)
}
