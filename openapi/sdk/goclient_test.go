package sdk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/openapi/sdk"
)

// goClientTest is a test of the generated pet store client, run with go
// test in a module of its own against the gateway at PETSTORE_URL.
const goClientTest = `package petstore_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"example.com/petclient/petstore"
)

func client(t *testing.T, opts ...petstore.Option) *petstore.Client {
	t.Helper()
	c, err := petstore.New(os.Getenv("PETSTORE_URL"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func apiError(t *testing.T, err error, status int, typ string) *petstore.APIError {
	t.Helper()
	var ae *petstore.APIError
	if !errors.As(err, &ae) || ae.StatusCode != status || ae.Type != typ {
		t.Fatalf("got error %v, want an APIError %d %s", err, status, typ)
	}
	return ae
}

func TestGeneratedClient(t *testing.T) {
	ctx := context.Background()
	c := client(t)

	limit := int32(2)
	pets, err := c.ListPets(ctx, &petstore.ListPetsInput{Limit: &limit, Tag: []string{"a", "b c"}, XTraceID: "t-1"})
	if err != nil || len(pets) != 1 || pets[0].Name != "limit=2 tags=a,b c trace=t-1" {
		t.Fatalf("ListPets: %+v, %v", pets, err)
	}

	pet, err := c.GetPet(ctx, &petstore.GetPetInput{ID: "a b"})
	if err != nil || pet.ID != "a b" || pet.Name != "Rex" || pet.Tag != nil || pet.Status != petstore.PetStatusAvailable ||
		pet.Owner == nil || len(pet.Owner.Friends) != 1 || pet.Owner.Friends[0].Name != "Bob" || string(pet.Owner.Extra) != "7" ||
		pet.Attributes["legs"] != 4 {
		t.Fatalf("GetPet: %+v, %v", pet, err)
	}
	_, err = c.GetPet(ctx, &petstore.GetPetInput{ID: "missing"})
	if ae := apiError(t, err, 404, "NotFoundException"); ae.Message != "no pet missing" {
		t.Fatalf("GetPet missing: message %q", ae.Message)
	}
	if _, err := c.GetPet(ctx, nil); err == nil {
		t.Fatal("GetPet without an id: no error")
	}

	created, err := c.CreatePet(ctx, &petstore.CreatePetInput{Body: &petstore.NewPet{Name: "Tom", Status: petstore.PetStatusPending}})
	if err != nil || created.ID != "42" || created.Name != "Tom" || created.Status != petstore.PetStatusPending {
		t.Fatalf("CreatePet: %+v, %v", created, err)
	}
	_, err = c.CreatePet(ctx, nil)
	apiError(t, err, 400, "BadRequestException")

	// The API key.
	_, err = c.GetSecret(ctx)
	apiError(t, err, 403, "ForbiddenException")
	secret, err := client(t, petstore.WithAPIKey(os.Getenv("PETSTORE_KEY"))).GetSecret(ctx)
	if err != nil || secret.Secret != "s3cr3t" || secret.APIKeyID == "" {
		t.Fatalf("GetSecret with the key: %+v, %v", secret, err)
	}
	if _, err := client(t, petstore.WithHeader("X-Api-Key", os.Getenv("PETSTORE_KEY"))).GetSecret(ctx); err != nil {
		t.Fatalf("GetSecret with the key in WithHeader: %v", err)
	}

	// 429 with Retry-After: 1 is retried after a second.
	start := time.Now()
	st, err := c.GetBusy(ctx)
	if err != nil || !st.Ok || st.Attempts != 2 {
		t.Fatalf("GetBusy: %+v, %v", st, err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("GetBusy retried after %v, want about 1s (Retry-After: 1)", waited)
	}
	// Without retries the 429 is the error.
	_, err = client(t, petstore.WithRetry(1, time.Minute)).GetBusy(ctx)
	if ae := apiError(t, err, 429, "TooManyRequestsException"); ae.RetryAfter != "1" {
		t.Fatalf("429 Retry-After %q", ae.RetryAfter)
	}
	if st, err := c.GetBusy(ctx); err != nil || st.Attempts != 4 {
		t.Fatalf("GetBusy on an even call: %+v, %v", st, err)
	}
	// The wait before a retry ends with the context.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c.GetBusy(short)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("GetBusy with a short deadline: %v after %v", err, time.Since(start))
	}
	apiError(t, err, 429, "TooManyRequestsException")

	// SigV4: the id holds = and +, which the signature covers twice-encoded.
	err = c.DeletePet(ctx, &petstore.DeletePetInput{ID: "L0S=ab+"})
	apiError(t, err, 403, "MissingAuthenticationTokenException")
	alice := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDALICE", SecretAccessKey: "alice-secret"}, nil
	})
	signed := client(t, petstore.WithSigV4(alice, "us-east-1"))
	if err := signed.DeletePet(ctx, &petstore.DeletePetInput{ID: "L0S=ab+"}); err != nil {
		t.Fatalf("signed DeletePet: %v", err)
	}
	tags, err := signed.PutAdminPetsIDTags(ctx, &petstore.PutAdminPetsIDTagsInput{ID: "7", Body: map[string]string{"colour": "black"}})
	if err != nil || tags.ID != "7" || tags.Tags["colour"] != "black" || tags.By != "arn:aws:iam::000000000000:user/alice" {
		t.Fatalf("signed PutAdminPetsIDTags: %+v, %v", tags, err)
	}
	bob := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDALICE", SecretAccessKey: "wrong"}, nil
	})
	err = client(t, petstore.WithSigV4(bob, "us-east-1")).DeletePet(ctx, &petstore.DeletePetInput{ID: "x"})
	apiError(t, err, 403, "InvalidSignatureException")
}
`

// TestGoClientAgainstStage generates the pet store's Go client into a
// module of its own, and runs go vet and a test there that calls every
// operation against a Portico stage over loopback HTTP. The clients of the
// other test documents are vetted there too.
func TestGoClientAgainstStage(t *testing.T) {
	ps := newPetStage(t)
	src, err := sdk.Go(loadDoc(t, "petstore.yaml"), sdk.GoOptions{Package: "petstore", SigV4: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	goSum, err := os.ReadFile(filepath.Join("..", "..", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	var sum []string
	for _, line := range strings.Split(string(goSum), "\n") {
		if strings.HasPrefix(line, "github.com/aws/aws-sdk-go-v2 ") || strings.HasPrefix(line, "github.com/aws/smithy-go ") {
			sum = append(sum, line)
		}
	}
	edge, err := sdk.Go(loadDoc(t, "edge.yaml"), sdk.GoOptions{Package: "edge"})
	if err != nil {
		t.Fatal(err)
	}
	cycles, err := sdk.Go(loadDoc(t, "cycles.yaml"), sdk.GoOptions{Package: "cycles"})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"edge/client.go":          string(edge),
		"cycles/client.go":        string(cycles),
		"go.mod":                  "module example.com/petclient\n\ngo 1.26\n\nrequire github.com/aws/aws-sdk-go-v2 v1.48.0\n",
		"go.sum":                  strings.Join(sum, "\n") + "\n",
		"petstore/client.go":      string(src),
		"petstore/client_test.go": goClientTest,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	goCmd(t, ctx, dir, nil, "vet", "./...")
	goCmd(t, ctx, dir, []string{"PETSTORE_URL=" + ps.url, "PETSTORE_KEY=" + ps.apiKey}, "test", "-count=1", "./...")
	select {
	case id := <-ps.deleted:
		if id != "L0S=ab+" {
			t.Fatalf("DeletePet reached the integration with id %q, want %q", id, "L0S=ab+")
		}
	default:
		t.Fatal("DeletePet never reached the integration")
	}
}
