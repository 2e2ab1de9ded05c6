package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The x-amazon-apigateway-* extensions Portico reads and writes.
const (
	extIntegration       = "x-amazon-apigateway-integration"
	extAuthorizer        = "x-amazon-apigateway-authorizer"
	extAuthType          = "x-amazon-apigateway-authtype"
	extAuth              = "x-amazon-apigateway-auth"
	extAPIKeySource      = "x-amazon-apigateway-api-key-source"
	extValidators        = "x-amazon-apigateway-request-validators"
	extValidator         = "x-amazon-apigateway-request-validator"
	extGatewayResponses  = "x-amazon-apigateway-gateway-responses"
	extBinaryMediaTypes  = "x-amazon-apigateway-binary-media-types"
	extMinCompression    = "x-amazon-apigateway-minimum-compression-size"
	extCORS              = "x-amazon-apigateway-cors"
	extEndpointConfig    = "x-amazon-apigateway-endpoint-configuration"
	extPolicy            = "x-amazon-apigateway-policy"
	extAnyMethod         = "x-amazon-apigateway-any-method"
	extImportExport      = "x-amazon-apigateway-importexport-version"
	extPorticoHandler    = "x-portico-integration"
	porticoHandlerMarker = "handler"
)

// flexString reads a JSON string or number as a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number")
	}
	*f = flexString(n.String())
	return nil
}

// flexInt reads a JSON number or a numeric string as an integer.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(strings.TrimSpace(string(s)), 64)
		if ferr != nil || fl != float64(int64(fl)) {
			return fmt.Errorf("%q is not an integer", string(s))
		}
		n = int64(fl)
	}
	*f = flexInt(n)
	return nil
}

// flexStrings reads a list of strings or a single string.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexStrings{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*f = l
	return nil
}

type xIntegration struct {
	Type                 string                          `json:"type"`
	URI                  string                          `json:"uri,omitempty"`
	HTTPMethod           string                          `json:"httpMethod,omitempty"`
	Credentials          string                          `json:"credentials,omitempty"`
	RequestParameters    map[string]string               `json:"requestParameters,omitempty"`
	RequestTemplates     map[string]string               `json:"requestTemplates,omitempty"`
	PassthroughBehavior  string                          `json:"passthroughBehavior,omitempty"`
	ContentHandling      string                          `json:"contentHandling,omitempty"`
	TimeoutInMillis      flexInt                         `json:"timeoutInMillis,omitempty"`
	ConnectionType       string                          `json:"connectionType,omitempty"`
	ConnectionID         string                          `json:"connectionId,omitempty"`
	CacheKeyParameters   []string                        `json:"cacheKeyParameters,omitempty"`
	CacheNamespace       string                          `json:"cacheNamespace,omitempty"`
	TLSConfig            *xTLSConfig                     `json:"tlsConfig,omitempty"`
	Responses            map[string]xIntegrationResponse `json:"responses,omitempty"`
	PayloadFormatVersion string                          `json:"payloadFormatVersion,omitempty"`
	IntegrationSubtype   string                          `json:"integrationSubtype,omitempty"`
}

type xTLSConfig struct {
	InsecureSkipVerification bool   `json:"insecureSkipVerification,omitempty"`
	ServerNameToVerify       string `json:"serverNameToVerify,omitempty"`
}

type xIntegrationResponse struct {
	StatusCode         flexString        `json:"statusCode"`
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	ResponseTemplates  map[string]string `json:"responseTemplates,omitempty"`
	ContentHandling    string            `json:"contentHandling,omitempty"`
}

type xAuthorizer struct {
	Type                           string      `json:"type"`
	AuthorizerURI                  string      `json:"authorizerUri,omitempty"`
	AuthorizerCredentials          string      `json:"authorizerCredentials,omitempty"`
	IdentitySource                 string      `json:"identitySource,omitempty"`
	IdentityValidationExpression   string      `json:"identityValidationExpression,omitempty"`
	AuthorizerResultTTLInSeconds   *flexInt    `json:"authorizerResultTtlInSeconds,omitempty"`
	AuthorizerPayloadFormatVersion string      `json:"authorizerPayloadFormatVersion,omitempty"`
	EnableSimpleResponses          bool        `json:"enableSimpleResponses,omitempty"`
	JWTConfiguration               *xJWTConfig `json:"jwtConfiguration,omitempty"`
	ProviderARNs                   []string    `json:"providerARNs,omitempty"`
}

type xJWTConfig struct {
	Issuer   string      `json:"issuer,omitempty"`
	Audience flexStrings `json:"audience,omitempty"`
}

type xValidator struct {
	ValidateRequestBody       bool `json:"validateRequestBody"`
	ValidateRequestParameters bool `json:"validateRequestParameters"`
}

type xGatewayResponse struct {
	StatusCode         flexString        `json:"statusCode,omitempty"`
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	ResponseTemplates  map[string]string `json:"responseTemplates,omitempty"`
}

type xCORS struct {
	AllowOrigins     []string `json:"allowOrigins,omitempty"`
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
	MaxAge           flexInt  `json:"maxAge,omitempty"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
}

type xEndpointConfig struct {
	Types                     []string `json:"types,omitempty"`
	VPCEndpointIDs            []string `json:"vpcEndpointIds,omitempty"`
	DisableExecuteAPIEndpoint bool     `json:"disableExecuteApiEndpoint,omitempty"`
}

type xAuth struct {
	Type string `json:"type"`
}

// ext decodes extension name of exts into v; present reports whether the
// extension is there.
func ext(exts map[string]any, name string, v any) (present bool, err error) {
	raw, ok := exts[name]
	if !ok {
		return false, nil
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return true, err
	}
	if err := json.Unmarshal(js, v); err != nil {
		return true, fmt.Errorf("%s: %v", name, err)
	}
	return true, nil
}
