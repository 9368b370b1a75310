package k8stest

import (
	"context"
	"testing"
)

// StartT starts a Cluster for a test and stops it in t.Cleanup. The data
// folder is a t.TempDir unless opts.DataDir is set. Under -short it skips the
// test, so `make unit` needs no binaries. Otherwise a missing binary or a
// component that does not turn ready fails the test. If the test fails, the
// end of each component's log is logged.
func StartT(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a control plane; run without -short")
	}

	// t.TempDir registers its removal first, so it runs after Stop.
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}

	c, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("failed to start the control plane: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("control-plane logs:\n%s", c.LogTails())
		}
		c.Stop()
	})
	return c
}
