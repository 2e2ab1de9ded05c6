package transform

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/reqctx"
)

// conformanceInput is the request every conformance case runs on, changed
// by the case's body and params.
func conformanceInput(body string) *Input {
	rc := &reqctx.Context{
		RequestID:    "req-1",
		RequestTime:  time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		AccountID:    "123456789012",
		APIID:        "pets",
		Stage:        "prod",
		RouteKey:     "POST /pets/{id}",
		ResourcePath: "/pets/{id}",
		ResourceID:   "r001",
		Path:         "/prod/pets/7",
		HTTPMethod:   "POST",
		Identity:     reqctx.Identity{SourceIP: "203.0.113.9", UserAgent: "curl/8"},
		Authorizer:   reqctx.Authorizer{PrincipalID: "user-1", Claims: map[string]any{"sub": "abc"}, Context: map[string]any{"tier": "gold"}},
		PathParams:   map[string]string{"id": "7"},
		StageVariables: map[string]string{
			"table": "Pets", "env": "prod",
		},
	}
	return &Input{
		Body:       []byte(body),
		PathParams: rc.PathParams,
		Query:      url.Values{"q": {"dog food"}, "limit": {"10"}},
		Header:     http.Header{"Content-Type": {"application/json"}, "X-Trace": {"t-1"}},
		Context:    rc,
	}
}

const petsBody = `[{"id":1,"type":"dog","price":249.99},{"id":2,"type":"cat","price":124.99},{"id":3,"type":"fish","price":0.99}]`

const photosBody = `{"photos":{"page":1,"pages":"1234","perpage":100,"total":"123398","photo":[` +
	`{"id":"12345678901","owner":"23456789@A12","secret":"abc123d456","server":"1234","farm":1,"title":"Sample photo 1","ispublic":true,"isfriend":false,"isfamily":false},` +
	`{"id":"23456789012","owner":"34567890@B23","secret":"bcd234e567","server":"2345","farm":2,"title":"Sample photo 2","ispublic":true,"isfriend":false,"isfamily":false}]}}`

// conformanceCases are mapping templates from the model gateway's
// documentation and from common real-world exports, each with the same
// template written as a Go template. Inputs and outputs follow the
// documented semantics (see apigw-semantics.md §5).
var conformanceCases = []struct {
	name   string
	body   string
	status int // response template when not 0
	vtl    string
	gotmpl string
	want   string
	// wantStatus and wantHeader are the overrides the template sets.
	wantStatus int
	wantHeader map[string]string
}{
	{
		name: "docs/petstore-array-to-description",
		body: petsBody,
		vtl: `#set($inputRoot = $input.path('$'))
[
#foreach($elem in $inputRoot)
  {
    "description" : "Item $elem.id is a $elem.type.",
    "askingPrice" : $elem.price
  }#if($foreach.hasNext),#end

#end
]`,
		gotmpl: `[
{{- range $i, $elem := path "$"}}{{if $i}},{{end}}
  {
    "description" : "Item {{$elem.id}} is a {{$elem.type}}.",
    "askingPrice" : {{$elem.price}}
  }
{{- end}}
]`,
		want: "json:" + `[{"description":"Item 1 is a dog.","askingPrice":249.99},{"description":"Item 2 is a cat.","askingPrice":124.99},{"description":"Item 3 is a fish.","askingPrice":0.99}]`,
	},
	{
		name: "docs/photos-flatten",
		body: photosBody,
		vtl: `#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.owner",
      "title": "$elem.title",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end
#end
  ]
}`,
		gotmpl: `{
  "photos": [
{{- range $i, $elem := path "$.photos.photo"}}{{if $i}},{{end}}
    {
      "id": "{{$elem.id}}",
      "photographedBy": "{{$elem.owner}}",
      "title": "{{$elem.title}}",
      "ispublic": {{$elem.ispublic}},
      "isfriend": {{$elem.isfriend}},
      "isfamily": {{$elem.isfamily}}
    }
{{- end}}
  ]
}`,
		want: "{\n  \"photos\": [\n    {\n      \"id\": \"12345678901\",\n      \"photographedBy\": \"23456789@A12\",\n      \"title\": \"Sample photo 1\",\n      \"ispublic\": true,\n      \"isfriend\": false,\n      \"isfamily\": false\n    },\n    {\n      \"id\": \"23456789012\",\n      \"photographedBy\": \"34567890@B23\",\n      \"title\": \"Sample photo 2\",\n      \"ispublic\": true,\n      \"isfriend\": false,\n      \"isfamily\": false\n    }\n  ]\n}",
	},
	{
		name:   "docs/params-and-body",
		body:   `{"a":1}`,
		vtl:    `{"name": "$input.params('q')", "id": "$input.params('id')", "trace": "$input.params('X-Trace')", "body": $input.json('$')}`,
		gotmpl: `{"name": "{{params "q"}}", "id": "{{params "id"}}", "trace": "{{params "X-Trace"}}", "body": {{json "$"}}}`,
		want:   `{"name": "dog food", "id": "7", "trace": "t-1", "body": {"a":1}}`,
	},
	{
		name: "docs/context-and-stage-variables",
		vtl: `{"stage": "$context.stage", "requestId": "$context.requestId", "sourceIp": "$context.identity.sourceIp", ` +
			`"principal": "$context.authorizer.principalId", "sub": "$context.authorizer.claims.sub", "tier": "$context.authorizer.tier", ` +
			`"table": "$stageVariables.table", "env": "${stageVariables.env}", "time": "$context.requestTime", "epoch": $context.requestTimeEpoch}`,
		gotmpl: `{"stage": "{{.Context.Stage}}", "requestId": "{{.Context.RequestID}}", "sourceIp": "{{.Context.Identity.SourceIP}}", ` +
			`"principal": "{{.Context.Authorizer.PrincipalID}}", "sub": "{{.Context.Authorizer.Claims.sub}}", "tier": "{{.Context.Authorizer.Context.tier}}", ` +
			`"table": "{{.StageVariables.table}}", "env": "{{.StageVariables.env}}", "time": "{{.Context.RequestTime.UTC.Format "02/Jan/2006:15:04:05 -0700"}}", "epoch": {{.Context.RequestTime.UnixMilli}}}`,
		want: `{"stage": "prod", "requestId": "req-1", "sourceIp": "203.0.113.9", "principal": "user-1", "sub": "abc", "tier": "gold", ` +
			`"table": "Pets", "env": "prod", "time": "06/May/2024:07:08:09 +0000", "epoch": 1714979289000}`,
	},
	{
		name: "docs/method-request-passthrough",
		body: `{"k":"v"}`,
		vtl: `##  This template will pass through all parameters including path, querystring, header, stage variables, and context through to the integration endpoint via the body/payload
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
    "authorizer-principal-id" : "$context.authorizer.principalId",
    "cognito-identity-id" : "$context.identity.cognitoIdentityId",
    "http-method" : "$context.httpMethod",
    "stage" : "$context.stage",
    "source-ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "request-id" : "$context.requestId",
    "resource-id" : "$context.resourceId",
    "resource-path" : "$context.resourcePath"
    }
}`,
		gotmpl: `{
"body-json" : {{json "$"}},
"params" : {
{{- $all := params}}
"header" : { {{- range $i, $k := keys $all.header}}{{if $i}},{{end}}"{{$k}}" : "{{escapeJavaScript (index $all.header $k)}}"{{end}}},
"path" : { {{- range $i, $k := keys $all.path}}{{if $i}},{{end}}"{{$k}}" : "{{escapeJavaScript (index $all.path $k)}}"{{end}}},
"querystring" : { {{- range $i, $k := keys $all.querystring}}{{if $i}},{{end}}"{{$k}}" : "{{escapeJavaScript (index $all.querystring $k)}}"{{end}}}
},
"stage-variables" : {{toJson .StageVariables}},
"context" : {
    "account-id" : "{{.Context.Identity.AccountID}}",
    "api-id" : "{{.Context.APIID}}",
    "authorizer-principal-id" : "{{.Context.Authorizer.PrincipalID}}",
    "cognito-identity-id" : "",
    "http-method" : "{{.Context.HTTPMethod}}",
    "stage" : "{{.Context.Stage}}",
    "source-ip" : "{{.Context.Identity.SourceIP}}",
    "user-agent" : "{{.Context.Identity.UserAgent}}",
    "request-id" : "{{.Context.RequestID}}",
    "resource-id" : "{{.Context.ResourceID}}",
    "resource-path" : "{{.Context.ResourcePath}}"
    }
}`,
		want: "json:" + `{"body-json":{"k":"v"},"params":{"header":{"Content-Type":"application\/json","X-Trace":"t-1"},"path":{"id":"7"},"querystring":{"limit":"10","q":"dog food"}},` +
			`"stage-variables":{"env":"prod","table":"Pets"},"context":{"account-id":"","api-id":"pets","authorizer-principal-id":"user-1","cognito-identity-id":"","http-method":"POST","stage":"prod","source-ip":"203.0.113.9","user-agent":"curl/8","request-id":"req-1","resource-id":"r001","resource-path":"/pets/{id}"}}`,
	},
	{
		name:   "docs/escape-javascript",
		body:   `{"data":"He said \"it's\" ok\n/path"}`,
		vtl:    `{"escaped": "$util.escapeJavaScript($input.path('$.data'))"}`,
		gotmpl: `{"escaped": "{{escapeJavaScript (path "$.data")}}"}`,
		want:   `{"escaped": "He said \"it\'s\" ok\n\/path"}`,
	},
	{
		name:   "docs/url-and-base64",
		body:   `{"q":"a b&c=d/é*~"}`,
		vtl:    `$util.urlEncode($input.path('$.q'))|$util.urlDecode('a+b%26c')|$util.base64Encode($input.path('$.q'))|$util.base64Decode('aGVsbG8=')`,
		gotmpl: `{{urlEncode (path "$.q")}}|{{urlDecode "a+b%26c"}}|{{base64Encode (path "$.q")}}|{{base64Decode "aGVsbG8="}}`,
		want:   `a+b%26c%3Dd%2F%C3%A9*%7E|a b&c|YSBiJmM9ZC/DqSp+|hello`,
	},
	{
		name: "docs/lambda-custom-error-response",
		body: `{"errorMessage":"{\"errorType\":\"NotFound\",\"message\":\"no pet 7\"}","errorType":"Error"}`,
		vtl: `#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
{
  "type" : "$errorMessageObj.errorType",
  "message" : "$errorMessageObj.message",
  "request-id" : "$context.requestId"
}`,
		gotmpl: `{{- $e := parseJson (path "$.errorMessage") -}}
{
  "type" : "{{$e.errorType}}",
  "message" : "{{$e.message}}",
  "request-id" : "{{.Context.RequestID}}"
}`,
		want: "{\n  \"type\" : \"NotFound\",\n  \"message\" : \"no pet 7\",\n  \"request-id\" : \"req-1\"\n}",
	},
	{
		name:   "docs/response-override-status",
		body:   `{"error":"not found"}`,
		status: 200,
		vtl: `#set($inputRoot = $input.path('$'))
$input.json("$")
#if($inputRoot.toString().contains("error"))
#set($context.responseOverride.status = 400)
#set($context.responseOverride.header.X-Error = "yes")
#end`,
		gotmpl: `{{json "$"}}
{{if (path "$.error")}}{{setStatus 400}}{{setHeader "X-Error" "yes"}}{{end}}`,
		want:       "{\"error\":\"not found\"}\n",
		wantStatus: 400,
		wantHeader: map[string]string{"X-Error": "yes"},
	},
	{
		name: "export/dynamodb-putitem",
		body: `{"name":"Rex","tags":["a","b"]}`,
		vtl: `{
    "TableName": "$stageVariables.table",
    "Item": {
        "id": {"S": "$context.requestId"},
        "name": {"S": "$input.path('$.name')"},
        "tags": {"SS": $input.json('$.tags')}
    }
}`,
		gotmpl: `{
    "TableName": "{{.StageVariables.table}}",
    "Item": {
        "id": {"S": "{{.Context.RequestID}}"},
        "name": {"S": "{{path "$.name"}}"},
        "tags": {"SS": {{json "$.tags"}}}
    }
}`,
		want: "{\n    \"TableName\": \"Pets\",\n    \"Item\": {\n        \"id\": {\"S\": \"req-1\"},\n        \"name\": {\"S\": \"Rex\"},\n        \"tags\": {\"SS\": [\"a\",\"b\"]}\n    }\n}",
	},
	{
		name:   "export/sqs-sendmessage",
		body:   `{"order":42,"note":"rush & wrap"}`,
		vtl:    `Action=SendMessage&MessageBody=$util.urlEncode($input.body)`,
		gotmpl: `Action=SendMessage&MessageBody={{urlEncode body}}`,
		want:   `Action=SendMessage&MessageBody=%7B%22order%22%3A42%2C%22note%22%3A%22rush+%26+wrap%22%7D`,
	},
	{
		name:   "export/kinesis-putrecord",
		body:   `{"Data":{"v":1},"PartitionKey":"p1"}`,
		vtl:    `{"StreamName": "$input.params('q')", "Data": "$util.base64Encode($input.json('$.Data'))", "PartitionKey": "$input.path('$.PartitionKey')"}`,
		gotmpl: `{"StreamName": "{{params "q"}}", "Data": "{{base64Encode (json "$.Data")}}", "PartitionKey": "{{path "$.PartitionKey"}}"}`,
		want:   `{"StreamName": "dog food", "Data": "eyJ2IjoxfQ==", "PartitionKey": "p1"}`,
	},
	{
		name:   "export/stepfunctions-startexecution",
		body:   `{"order":"o-1"}`,
		vtl:    `{"input": "$util.escapeJavaScript($input.json('$'))", "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:$stageVariables.env"}`,
		gotmpl: `{"input": "{{escapeJavaScript (json "$")}}", "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:{{.StageVariables.env}}"}`,
		want:   `{"input": "{\"order\":\"o-1\"}", "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:prod"}`,
	},
	{
		name: "export/form-urlencoded-to-json",
		body: `name=Rex&kind=dog+%26+cat&empty=`,
		vtl: `{
#foreach( $token in $input.path('$').split('&') )
    #set( $keyVal = $token.split('=') )
    #set( $keyValSize = $keyVal.size() )
    #if( $keyValSize >= 1 )
        #set( $key = $util.urlDecode($keyVal[0]) )
        #if( $keyValSize >= 2 )
            #set( $val = $util.urlDecode($keyVal[1]) )
        #else
            #set( $val = '' )
        #end
        "$key": "$util.escapeJavaScript($val)"#if($foreach.hasNext),#end

    #end
#end
}`,
		gotmpl: `{
{{- range $i, $tok := split body "&"}}{{if $i}},{{end}}
{{- $kv := split $tok "="}}
        "{{urlDecode (index $kv 0)}}": "{{if gt (len $kv) 1}}{{escapeJavaScript (urlDecode (index $kv 1))}}{{end}}"
{{- end}}
}`,
		want: "json:" + `{"name":"Rex","kind":"dog & cat","empty":""}`,
	},
	{
		name:   "jsonpath/wildcard-and-filter",
		body:   `{"items":[{"name":"pen","price":2},{"name":"ink","price":8},{"name":"desk","price":120}]}`,
		vtl:    `$input.json('$.items[*].name') $input.json('$.items[?@.price < 10].name') $input.json('$.items[0]') $input.json('$.missing') $input.json('$..price')`,
		gotmpl: `{{json "$.items[*].name"}} {{json "$.items[?@.price < 10].name"}} {{json "$.items[0]"}} {{json "$.missing"}} {{json "$..price"}}`,
		want:   `["pen","ink","desk"] ["pen","ink"] {"name":"pen","price":2} null [2,8,120]`,
	},
	{
		name:   "vtl/quiet-and-missing",
		body:   `{"a":"x"}`,
		vtl:    `[$!{input.path('$.missing')}][$input.path('$.missing')][$!nothing][$input.path('$.a')]`,
		gotmpl: `[{{path "$.missing"}}][{{path "$.missing"}}][][{{path "$.a"}}]`,
		want:   `[][][][x]`,
	},
	{
		name: "vtl/list-and-map-building",
		body: `{"n":3}`,
		vtl: `#set($list = [])
#foreach($i in [1..$input.path('$.n')])
#set($ignored = $list.add($i * 2))
#end
#set($m = {"b": 1, "a": 2})
#set($dummy = $m.put("c", $list.size()))
$list $m #foreach($k in $m.keySet())$k=$m.get($k)#if($foreach.hasNext);#end#end`,
		gotmpl: `{{- $n := int (path "$.n")}}[{{range $i := $n}}{{if $i}}, {{end}}{{mul (add $i 1) 2}}{{end}}] {b=1, a=2, c={{$n}}} b=1;a=2;c={{$n}}`,
		want:   `[2, 4, 6] {b=1, a=2, c=3} b=1;a=2;c=3`,
	},
	{
		name: "vtl/if-elseif-else-status-mapping",
		body: `{"code":"E42"}`,
		vtl: `#set($c = $input.path('$.code'))
#if($c == "E1")
one
#elseif($c.startsWith("E4") && $c.length() == 3)
four-x
#else
other
#end`,
		gotmpl: `{{$c := path "$.code"}}{{if eq $c "E1"}}one
{{else if and (hasPrefix $c "E4") (eq (len $c) 3)}}four-x
{{else}}other
{{end}}`,
		want: "four-x\n",
	},
	{
		name:   "vtl/string-methods",
		body:   `{"s":"  Hello, World  "}`,
		vtl:    `#set($s = $input.path('$.s').trim())$s.toUpperCase()|$s.substring(0, 5)|$s.replace("World", "VTL")|$s.replaceAll("[aeiou]", "*")|$s.indexOf("o")|$s.split(", ").size()|$s.matches("H.*d")`,
		gotmpl: `{{$s := trim (path "$.s")}}{{upper $s}}|{{slice $s 0 5}}|{{replace $s "World" "VTL"}}|{{regexReplaceAll $s "[aeiou]" "*"}}|{{indexOf $s "o"}}|{{len (split $s ", ")}}|{{regexMatch $s "^H.*d$"}}`,
		want:   `HELLO, WORLD|Hello|Hello, VTL|H*ll*, W*rld|4|2|true`,
	},
	{
		name:   "vtl/header-keyset",
		vtl:    `#foreach($h in $input.params().header.keySet())$h#if($foreach.hasNext),#end#end`,
		gotmpl: `{{range $i, $k := keys (params).header}}{{if $i}},{{end}}{{$k}}{{end}}`,
		want:   `Content-Type,X-Trace`,
	},
	{
		name:   "vtl/arithmetic-and-numbers",
		body:   `{"price":2.5,"qty":3,"big":12345678901234567890}`,
		vtl:    `#set($p = $input.path('$.price'))#set($q = $input.path('$.qty'))$q * 2 = #set($d = $q * 2)$d; $q / 2 = #set($h = $q / 2)$h; total #set($t = $p * $q)$t; big $input.path('$.big'); $input.json('$.big')`,
		gotmpl: `{{$q := int (path "$.qty")}}{{$q}} * 2 = {{mul $q 2}}; {{$q}} / 2 = {{div $q 2}}; total 7.5; big {{path "$.big"}}; {{json "$.big"}}`,
		want:   `3 * 2 = 6; 3 / 2 = 1; total 7.5; big 12345678901234567890; 12345678901234567890`,
	},
}

func TestConformance(t *testing.T) {
	for _, tc := range conformanceCases {
		for _, lang := range []Language{VTL, GoTemplate} {
			src := tc.vtl
			if lang == GoTemplate {
				src = tc.gotmpl
			}
			t.Run(tc.name+"/"+string(lang), func(t *testing.T) {
				tpl, err := parseForTest(lang, src)
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				in := conformanceInput(tc.body)
				in.Status = tc.status
				res, err := tpl.Render(context.Background(), in)
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				if res.Overrides.Status != tc.wantStatus {
					t.Errorf("status override = %d, want %d", res.Overrides.Status, tc.wantStatus)
				}
				if !maps.Equal(res.Overrides.Header, tc.wantHeader) {
					t.Errorf("header overrides = %v, want %v", res.Overrides.Header, tc.wantHeader)
				}
				got := string(res.Body)
				if want, ok := strings.CutPrefix(tc.want, "json:"); ok {
					if !jsonEqual(t, got, want) {
						t.Errorf("output is not the JSON expected:\n got: %s\nwant: %s", got, want)
					}
					return
				}
				if got != tc.want {
					t.Errorf("output:\n got: %q\nwant: %q", got, tc.want)
				}
			})
		}
	}
}
