package k8stest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartWithoutBinariesSaysHowToBuild(t *testing.T) {
	dir := t.TempDir()
	_, err := Start(context.Background(), Options{BinDir: dir, DataDir: t.TempDir()})
	require.Error(t, err)
	assert.ErrorContains(t, err, "make kube-bins")
	assert.ErrorContains(t, err, dir)
	assert.ErrorContains(t, err, etcdBinary)
	assert.ErrorContains(t, err, apiserverBinary)
}

func TestBinDirFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(BinDirEnv, dir)
	got, err := BinDir()
	require.NoError(t, err)
	assert.Equal(t, dir, got)
}

func TestBinDirDefaultsToRepositoryBin(t *testing.T) {
	t.Setenv(BinDirEnv, "")
	got, err := BinDir()
	require.NoError(t, err)

	// The test runs in internal/k8stest, two levels below the repository root.
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "_bin"), got)
}
