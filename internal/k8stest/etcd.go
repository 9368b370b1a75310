package k8stest

import (
	"context"
	"fmt"
	"path/filepath"
)

// etcdName is the member name of the single-member etcd cluster.
const etcdName = "veltrim"

// startEtcd starts a single etcd member on the given loopback ports and waits
// until it reports healthy.
func startEtcd(ctx context.Context, binary, dataDir string, clientPort, peerPort int) (*process, string, error) {
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	args := []string{
		"--name=" + etcdName,
		"--data-dir=" + filepath.Join(dataDir, "etcd"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=" + etcdName + "=" + peerURL,
		// The data is thrown away with the cluster, so durability buys nothing.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}

	p, err := startProcess("etcd", binary, dataDir, args)
	if err != nil {
		return nil, "", err
	}
	if err := waitReady(ctx, p, httpOKCheck(loopbackHTTPClient(nil), clientURL+"/health")); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, clientURL, nil
}
