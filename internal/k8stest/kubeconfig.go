package k8stest

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigContext names the cluster, user and context in the kubeconfig file.
const kubeconfigContext = "veltrim"

// Client rate limits of the admin rest.Config. client-go's defaults (5 QPS,
// burst 10) would throttle tests that create and patch many objects.
const (
	clientQPS   = 100
	clientBurst = 200
)

// adminConfig returns a rest.Config that authenticates as the admin user.
func adminConfig(host string, creds *credentials) *rest.Config {
	return &rest.Config{
		Host:            host,
		BearerToken:     creds.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: creds.serving.CA.CertPEM},
		QPS:             clientQPS,
		Burst:           clientBurst,
	}
}

// writeKubeconfig writes a kubeconfig for config to path, for kubectl and for
// kube-controller-manager.
func writeKubeconfig(path string, config *rest.Config) error {
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters[kubeconfigContext] = &clientcmdapi.Cluster{
		Server:                   config.Host,
		CertificateAuthorityData: config.CAData,
	}
	kubeconfig.AuthInfos[kubeconfigContext] = &clientcmdapi.AuthInfo{Token: config.BearerToken}
	kubeconfig.Contexts[kubeconfigContext] = &clientcmdapi.Context{
		Cluster:  kubeconfigContext,
		AuthInfo: kubeconfigContext,
	}
	kubeconfig.CurrentContext = kubeconfigContext

	if err := clientcmd.WriteToFile(*kubeconfig, path); err != nil {
		return fmt.Errorf("failed to write the kubeconfig %s: %w", path, err)
	}
	return nil
}
