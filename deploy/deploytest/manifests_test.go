package deploytest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/veltrix/veltrim/internal/k8stest"
)

// deployDir is deploy/, relative to this package's folder.
const deployDir = ".."

// kubectlTimeout bounds one kubectl run. A kustomize build takes well under a
// second; the bound leaves room for a machine busy compiling.
const kubectlTimeout = time.Minute

// Kustomization folders relative to deploy/. kustomizationDirs must find
// exactly these, so a new kustomization is added here and so gets checked.
var expectedKustomizations = []string{
	"base",
	"dashboards",
	"examples/llm-workload",
	"examples/opentelemetry-operator",
	"overlays/clamp",
}

// kustomizationDirs returns every folder under deploy/ that holds a
// kustomization.yaml, relative to deploy/ and sorted.
func kustomizationDirs(t *testing.T) []string {
	t.Helper()

	var dirs []string
	err := filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "kustomization.yaml" {
			return nil
		}
		rel, err := filepath.Rel(deployDir, filepath.Dir(path))
		if err != nil {
			return err
		}
		dirs = append(dirs, filepath.ToSlash(rel))
		return nil
	})
	require.NoError(t, err)
	sort.Strings(dirs)
	return dirs
}

// kubectl runs the kubectl of `make kube-bins` with stdin and returns its
// standard output. The error carries standard error.
func kubectl(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	path, err := k8stest.KubectlPath()
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, kubectlTimeout)
	defer cancel()

	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// kubectl must never fall back to a kubeconfig or proxy of the machine.
	cmd.Env = []string{"HOME=" + os.TempDir(), "KUBECONFIG=/dev/null"}
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), errors.New("kubectl " + strings.Join(args, " ") + ": " + err.Error() + ": " + stderr.String())
	}
	return stdout.Bytes(), nil
}

// kustomizeBuild runs `kubectl kustomize` on a folder relative to deploy/ and
// returns the YAML it prints.
func kustomizeBuild(t *testing.T, dir string) []byte {
	t.Helper()

	out, err := kubectl(context.Background(), nil, "kustomize", filepath.Join(deployDir, dir))
	require.NoError(t, err, "kustomize build of deploy/%s failed", dir)
	return out
}

// buildObjects builds a kustomization and decodes the objects it prints.
func buildObjects(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	return decodeObjects(t, kustomizeBuild(t, dir))
}

// decodeObjects decodes a stream of YAML documents into objects.
func decodeObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()

	var objects []*unstructured.Unstructured
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := decoder.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objects
		}
		require.NoError(t, err)
		if len(obj.Object) > 0 {
			objects = append(objects, obj)
		}
	}
}

// findObject returns the object of kind and name, or fails the test.
func findObject(t *testing.T, objects []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()

	for _, obj := range objects {
		if obj.GetKind() == kind && obj.GetName() == name {
			return obj
		}
	}
	require.Failf(t, "object not found", "no %s %q among the %d built objects", kind, name, len(objects))
	return nil
}

// hasObject reports whether objects contain one of kind and name.
func hasObject(objects []*unstructured.Unstructured, kind, name string) bool {
	for _, obj := range objects {
		if obj.GetKind() == kind && obj.GetName() == name {
			return true
		}
	}
	return false
}
