package k8stest

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// serviceClusterIPRange is the range kube-apiserver allocates Service cluster
// IPs from. Nothing routes it: no kube-proxy runs.
const serviceClusterIPRange = "10.0.0.0/24"

// apiserverArgs returns the kube-apiserver flags for a loopback control plane.
func apiserverArgs(dataDir, etcdURL string, port int, creds *credentials) []string {
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(dataDir, "apiserver"),
		"--tls-cert-file=" + creds.serving.CertFile,
		"--tls-private-key-file=" + creds.serving.KeyFile,
		"--token-auth-file=" + creds.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + serviceAccountIssuer,
		"--service-account-key-file=" + creds.serviceAccountKeyFile,
		"--service-account-signing-key-file=" + creds.serviceAccountKeyFile,
		"--service-cluster-ip-range=" + serviceClusterIPRange,
		// The default reconciler rejects a loopback advertise address for
		// the kubernetes Service endpoints.
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}
}

// startAPIServer starts kube-apiserver and waits until /readyz succeeds and
// the default namespace exists.
func startAPIServer(ctx context.Context, binary string, args []string, dataDir string, client kubernetes.Interface) (*process, error) {
	p, err := startProcess("kube-apiserver", binary, dataDir, args)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, p, apiserverReadyCheck(client)); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func apiserverReadyCheck(client kubernetes.Interface) func(context.Context) error {
	return func(ctx context.Context) error {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("/readyz: %w: %s", err, body)
		}

		// The bootstrap controller creates the default namespace shortly
		// after the apiserver turns ready, and tests expect it.
		if _, err := client.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
			return err
		}
		return nil
	}
}
