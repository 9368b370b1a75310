package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/veltrix/veltrim/internal/k8stest"
)

// Environment variables that override where the binaries are.
const (
	CollectorEnv = "VELTRIM_COLLECTOR"
	LoadgenEnv   = "VELTRIM_LOADGEN"
)

// Binaries are the programs the scenario runs.
type Binaries struct {
	// Collector is otelcol-veltrim, built by `make build`.
	Collector string
	// Loadgen is veltrim-loadgen, built by `make loadgen`.
	Loadgen string
	// Kubectl is built by `make kube-bins` next to the control plane.
	Kubectl string
}

// FindBinaries returns the binaries in the repository's _build and _bin
// folders, or where the environment variables point. The error names the
// make target that builds each missing one.
func FindBinaries() (Binaries, error) {
	root, err := repositoryRoot()
	if err != nil {
		return Binaries{}, err
	}

	b := Binaries{
		Collector: envOr(CollectorEnv, filepath.Join(root, "_build", "otelcol-veltrim")),
		Loadgen:   envOr(LoadgenEnv, filepath.Join(root, "_build", "veltrim-loadgen")),
	}
	var errs []error
	if err := checkExecutable(b.Collector, "make build"); err != nil {
		errs = append(errs, err)
	}
	if err := checkExecutable(b.Loadgen, "make loadgen"); err != nil {
		errs = append(errs, err)
	}
	if b.Kubectl, err = k8stest.KubectlPath(); err != nil {
		errs = append(errs, err)
	}
	return b, errors.Join(errs...)
}

// RepositoryPath returns the absolute path of a file given relative to the
// repository root.
func RepositoryPath(rel string) (string, error) {
	root, err := repositoryRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, rel), nil
}

// repositoryRoot walks up from the working directory to the folder that
// holds builder-config.yaml.
func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "builder-config.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("failed to find the repository root (the folder with builder-config.yaml) above the working directory")
		}
		dir = parent
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func checkExecutable(path, makeTarget string) error {
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return fmt.Errorf("%s not found: run `%s` first", path, makeTarget)
	}
	return nil
}
