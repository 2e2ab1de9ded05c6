package openapi_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico/internal/npmtest"
	"github.com/portico-gw/portico/openapi"
)

// nodeDir returns node and the npm test tools' directory, installed.
func nodeDir(t *testing.T) (node, dir string) {
	t.Helper()
	return npmtest.Dir(t, filepath.Join("testdata", "npm"), "the tests that need the pinned npm packages of openapi/testdata/npm")
}

// TestCorpus imports every document of @readme/oas-examples (pinned in
// testdata/npm): none may panic, and every document kin-openapi finds
// valid must import without an error. It prints a summary.
func TestCorpus(t *testing.T) {
	_, dir := nodeDir(t)
	root := filepath.Join(dir, "node_modules", "@readme", "oas-examples")
	var files []string
	for _, v := range []string{"2.0", "3.0", "3.1"} {
		_ = filepath.WalkDir(filepath.Join(root, v), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && slices.Contains([]string{".json", ".yaml", ".yml"}, filepath.Ext(path)) {
				files = append(files, path)
			}
			return nil
		})
	}
	slices.Sort(files)
	if len(files) < 50 {
		t.Fatalf("found %d documents under %s; is the package installed?", len(files), root)
	}
	var imported, withWarnings int
	kinds := map[string]int{}
	var rejected []string
	reg := registry()
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		imp, err := openapi.Import(data, openapi.ImportOptions{Registry: reg})
		if err != nil {
			msg := err.Error()
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			rejected = append(rejected, rel+": "+msg)
			if valid(data) {
				t.Errorf("%s is valid but does not import: %v", rel, err)
			}
			continue
		}
		imported++
		if len(imp.Warnings) > 0 {
			withWarnings++
		}
		for _, w := range imp.Warnings {
			kinds[warningKind(w.Message)]++
		}
		for _, spec := range []openapi.Spec{openapi.OpenAPI30, openapi.Swagger20} {
			out, _, err := openapi.Export(imp.API, openapi.ExportOptions{Spec: spec})
			if err != nil {
				t.Errorf("%s: the imported API does not export as %s: %v", rel, spec, err)
				continue
			}
			if _, err := openapi.Import(out, openapi.ImportOptions{Registry: reg}); err != nil {
				t.Errorf("%s: the %s export does not import: %v", rel, spec, err)
			}
		}
	}
	t.Logf("corpus @readme/oas-examples: %d documents, %d imported (%d with warnings), %d rejected", len(files), imported, withWarnings, len(rejected))
	for _, r := range rejected {
		t.Logf("rejected %s", r)
	}
	keys := slices.SortedFunc(maps.Keys(kinds), func(a, b string) int { return kinds[b] - kinds[a] })
	for _, k := range keys[:min(len(keys), 12)] {
		t.Logf("%5d warnings: %s", kinds[k], k)
	}
}

// warningKind shortens a warning message to its kind, for the summary.
func warningKind(msg string) string {
	if m, _, ok := strings.Cut(msg, " "); ok && strings.ToUpper(m) == m {
		if _, after, ok := strings.Cut(msg, ": "); ok {
			msg = after // drop the "GET /path (id): " label
		}
	}
	if i := strings.IndexAny(msg, ":("); i > 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

// valid reports whether kin-openapi loads and validates an OpenAPI 3
// document (Swagger 2.0 documents count as valid when they load).
func valid(data []byte) bool {
	if strings.Contains(string(data[:min(len(data), 200)]), "swagger") {
		return true
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return false
	}
	return doc.Validate(context.Background()) == nil
}
