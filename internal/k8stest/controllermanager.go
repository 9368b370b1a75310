package k8stest

import (
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
)

// DefaultControllers are the kube-controller-manager controllers a Cluster
// runs unless Options.Controllers names others: Deployments and ReplicaSets,
// the default ServiceAccount of each namespace (pods are rejected without
// it), cascading deletion and namespace deletion.
var DefaultControllers = []string{
	"deployment-controller",
	"replicaset-controller",
	"serviceaccount-controller",
	"garbage-collector-controller",
	"namespace-controller",
}

// controllerManagerArgs returns the kube-controller-manager flags.
func controllerManagerArgs(kubeconfig string, port int, controllers []string, creds *credentials) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		// Bearer tokens are checked through TokenReview. Without this flag
		// the controller manager also looks for client and request-header
		// CAs in a ConfigMap that kube-apiserver does not publish here, and
		// logs an error about it again and again.
		"--authentication-skip-lookup",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + creds.serving.CertFile,
		"--tls-private-key-file=" + creds.serving.KeyFile,
		"--controllers=" + strings.Join(controllers, ","),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--profiling=false",
	}
}

// startControllerManager starts kube-controller-manager and waits until its
// /healthz succeeds.
func startControllerManager(ctx context.Context, binary string, args []string, dataDir string, port int, creds *credentials) (*process, error) {
	p, err := startProcess("kube-controller-manager", binary, dataDir, args)
	if err != nil {
		return nil, err
	}

	client := loopbackHTTPClient(&tls.Config{RootCAs: creds.serving.CA.CertPool()})
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", port)
	if err := waitReady(ctx, p, httpOKCheck(client, url)); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}
