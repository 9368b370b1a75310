package k8stest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BinDirEnv names the environment variable that points at the folder holding
// etcd, kube-apiserver, kube-controller-manager and kubectl.
const BinDirEnv = "VELTRIM_KUBE_BIN_DIR"

// modulePath identifies the repository root when BinDirEnv is unset.
const modulePath = "github.com/veltrix/veltrim"

// Names of the binaries that hack/build-kube.sh builds.
const (
	etcdBinary              = "etcd"
	apiserverBinary         = "kube-apiserver"
	controllerManagerBinary = "kube-controller-manager"
	kubectlBinary           = "kubectl"
)

// BinDir returns the folder that holds the control-plane binaries: the value
// of VELTRIM_KUBE_BIN_DIR, or the _bin folder at the repository root, found by
// walking up from the working directory to the go.mod of the veltrim module.
func BinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return filepath.Abs(dir)
	}

	root, err := repositoryRoot()
	if err != nil {
		return "", fmt.Errorf("failed to locate the control-plane binaries (set %s or run from the repository): %w", BinDirEnv, err)
	}
	return filepath.Join(root, "_bin"), nil
}

// KubectlPath returns the path of the kubectl binary built next to the
// control plane, or an error that names the make target that builds it.
func KubectlPath() (string, error) {
	dir, err := BinDir()
	if err != nil {
		return "", err
	}
	return binaryPath(dir, kubectlBinary)
}

// binaryPath returns dir/name when it is an executable file.
func binaryPath(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	if !isExecutable(path) {
		return "", missingBinariesError(dir, []string{name})
	}
	return path, nil
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

func missingBinariesError(dir string, names []string) error {
	return fmt.Errorf("%s not found in %s: run `make kube-bins` (or hack/build-kube.sh) first, or set %s to the folder that contains them",
		strings.Join(names, ", "), dir, BinDirEnv)
}

func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of module " + modulePath + " above the working directory")
		}
		dir = parent
	}
}

// isModuleRoot reports whether the go.mod at path declares the veltrim module.
func isModuleRoot(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()

	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 2 && fields[0] == "module" {
			return fields[1] == modulePath
		}
	}
	return false
}
