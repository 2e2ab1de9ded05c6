package sdk

import (
	"testing"
)

func TestExportedName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"getPet", "GetPet"},
		{"list_pets", "ListPets"},
		{"get /pets/{id}", "GetPetsID"},
		{"getPetByID", "GetPetByID"},
		{"HTTPServer", "HTTPServer"},
		{"user_ids", "UserIDs"},
		{"x-api-key", "XAPIKey"},
		{"X-Trace-Id", "XTraceID"},
		{"2fa", "X2fa"},
		{"v2Pets", "V2Pets"},
		{"über-pets", "BerPets"},
		{"名前", "fallback"},
		{"", "fallback"},
		{"--", "fallback"},
		{"filter[name]", "FilterName"},
		{"PETS", "PETS"},
	}
	for _, tc := range tests {
		if got := exportedName(tc.in, "fallback"); got != tc.want {
			t.Errorf("exportedName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLowerFirst(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GetPet", "getPet"},
		{"HTTPStatus", "httpStatus"},
		{"ID", "id"},
		{"XTraceID", "xTraceID"},
		{"X2fa", "x2fa"},
		{"already", "already"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := lowerFirst(tc.in); got != tc.want {
			t.Errorf("lowerFirst(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNamespaceClaim(t *testing.T) {
	ns := newNamespace("Client")
	for _, tc := range []struct{ in, want string }{
		{"Pet", "Pet"}, {"Pet", "Pet2"}, {"Pet2", "Pet22"}, {"Client", "Client2"}, {"Pet", "Pet3"},
	} {
		if got := ns.claim(tc.in); got != tc.want {
			t.Errorf("claim(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Operations with an operationId keep their names; operations named from
// method and path get a number on a clash, in path then method order.
func TestOperationNames(t *testing.T) {
	doc := loadTestDoc(t, `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /pets:
    get: {responses: {"200": {description: ok}}}
    post: {operationId: getPets, responses: {"200": {description: ok}}}
  /pets/:
    get: {responses: {"200": {description: ok}}}
  /a/{id}:
    delete: {operationId: "delete-it", responses: {"200": {description: ok}}}
    put: {responses: {"200": {description: ok}}}
`)
	ops, err := collect(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range ops {
		got = append(got, op.method+" "+op.path+" "+op.name)
	}
	want := []string{
		"PUT /a/{id} PutAID",
		"DELETE /a/{id} DeleteIt",
		"GET /pets GetPets2",
		"POST /pets GetPets",
		"GET /pets/ GetPets3",
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("operation %d: got %q, want %q", i, got[i], want[i])
		}
	}
}
