// Package npmtest gives tests the pinned npm packages they run with node
// (third-party clients, compilers, linters): it installs a directory's
// package-lock.json with npm ci once, and skips tests when no node is
// configured.
package npmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// EnvNode is the environment variable holding the path of the node binary;
// npm is looked for beside it. .ci/run sets it.
const EnvNode = "PORTICO_TEST_NODE"

// Dir returns the node binary and the absolute path of dir (a directory
// with package.json and package-lock.json), after installing its packages
// with npm ci when dir has no node_modules. It skips t, saying that what
// needs node, when EnvNode is unset, and fails t when npm ci fails.
func Dir(t testing.TB, dir, what string) (node, abs string) {
	t.Helper()
	node = os.Getenv(EnvNode)
	if node == "" {
		t.Skipf("%s is not set (the path of node, e.g. export %s=$(command -v node)): skipping %s; .ci/run sets it", EnvNode, EnvNode, what)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "node_modules")); err != nil {
		npm := filepath.Join(filepath.Dir(node), "npm")
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = abs
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", abs, err, out)
		}
	}
	return node, abs
}
