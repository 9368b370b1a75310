package k8stest

import (
	"context"
	"fmt"
)

// StopAPIServer stops kube-apiserver and leaves etcd and the other
// components running, so a test can see how a client behaves while the API
// is unreachable. StartAPIServer brings it back on the same address.
func (c *Cluster) StopAPIServer() {
	c.apiserverMu.Lock()
	defer c.apiserverMu.Unlock()
	c.processes[c.apiserver].stop()
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same
// port with the same credentials, so clients built before the stop work
// again. It waits until /readyz succeeds or ctx ends.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	c.apiserverMu.Lock()
	defer c.apiserverMu.Unlock()

	if c.processes[c.apiserver].exited() == nil {
		return fmt.Errorf("kube-apiserver is still running: call StopAPIServer first")
	}
	p, err := startAPIServer(ctx, c.apiserverBinary, c.apiserverArgs, c.dataDir, c.client)
	if err != nil {
		return err
	}
	c.processes[c.apiserver] = p
	return nil
}
