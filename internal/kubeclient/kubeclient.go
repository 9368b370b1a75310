// Package kubeclient builds Kubernetes API clients from the connection
// settings veltrim components share: how to authenticate and how fast to talk.
package kubeclient

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// AuthType selects where the client finds the API server and its credentials.
type AuthType string

const (
	// AuthTypeServiceAccount uses the pod's service account token and the
	// in-cluster environment (KUBERNETES_SERVICE_HOST and _PORT).
	AuthTypeServiceAccount AuthType = "serviceAccount"
	// AuthTypeKubeConfig reads a kubeconfig file: KubeConfigPath when set,
	// else the KUBECONFIG environment variable or ~/.kube/config.
	AuthTypeKubeConfig AuthType = "kubeConfig"
)

// Options are the settings of one client.
type Options struct {
	AuthType AuthType
	// KubeConfigPath is the kubeconfig file for AuthTypeKubeConfig; empty
	// means the default loading rules of kubectl.
	KubeConfigPath string
	// Context is the kubeconfig context for AuthTypeKubeConfig; empty means
	// the file's current context.
	Context string
	// QPS and Burst configure the client-side token bucket that limits the
	// request rate.
	QPS   float32
	Burst int
	// UserAgent is sent with every request; the API server's audit log and
	// metrics show it.
	UserAgent string
}

// RESTConfig builds the rest.Config for opts.
func RESTConfig(opts Options) (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	switch opts.AuthType {
	case AuthTypeServiceAccount:
		cfg, err = rest.InClusterConfig()
	case AuthTypeKubeConfig:
		cfg, err = kubeconfigRESTConfig(opts.KubeConfigPath, opts.Context)
	default:
		return nil, fmt.Errorf("unsupported auth type %q: use %q or %q", opts.AuthType, AuthTypeServiceAccount, AuthTypeKubeConfig)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to load the %s client configuration: %w", opts.AuthType, err)
	}

	cfg.QPS = opts.QPS
	cfg.Burst = opts.Burst
	if opts.UserAgent != "" {
		cfg.UserAgent = opts.UserAgent
	}
	return cfg, nil
}

// NewClientset builds a clientset for opts.
func NewClientset(opts Options) (kubernetes.Interface, error) {
	cfg, err := RESTConfig(opts)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create the Kubernetes client: %w", err)
	}
	return client, nil
}

func kubeconfigRESTConfig(path, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
}
