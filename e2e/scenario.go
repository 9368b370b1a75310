package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/veltrix/veltrim/internal/k8stest"
	"github.com/veltrix/veltrim/internal/podstate"
)

// Defaults of Options.
const (
	DefaultConfig     = "testdata/collector/e2e.yaml"
	DefaultNamespace  = "veltrim-demo"
	DefaultDeployment = "llm"
	DefaultReplicas   = 4
)

// WebhookName names the ValidatingWebhookConfiguration the scenario
// registers and its one webhook.
const WebhookName = "scale.veltrim.io"

// AnnotationPrefix is the exporter's annotation_prefix in DefaultConfig.
const AnnotationPrefix = podstate.DefaultAnnotationPrefix

// webhookTimeoutSeconds is longer than the 2 s of deploy/, because a
// machine busy compiling may take that long to respond. The webhook fails
// open, so a timed-out call would let the scale-down through.
const webhookTimeoutSeconds = 10

// Options configure a Scenario. The zero value runs the default scenario
// with the binaries FindBinaries returns.
type Options struct {
	Binaries Binaries
	// ConfigPath is the collector configuration. Default: DefaultConfig.
	ConfigPath string
	Namespace  string
	Deployment string
	Replicas   int32
	// WorkDir holds the cluster's data, the certificates, the collector's
	// log and the exported spans. Default: a temporary folder Stop removes.
	WorkDir string
	// Progress receives one line per step started; nil prints nothing.
	Progress func(format string, args ...any)
}

// Scenario is a running control plane, collector and Deployment.
type Scenario struct {
	opts          Options
	workDir       string
	removeWorkDir bool

	cluster   *k8stest.Cluster
	collector *Collector
	cert      *k8stest.ServingCert
	ports     ports

	// Pods are the Deployment's Ready pods at the start, sorted by name.
	Pods []corev1.Pod
}

// ports are the collector's loopback ports.
type ports struct {
	otlp, health, metrics, admission int
}

// Start runs the steps before any load. It starts the control plane with
// kube-controller-manager and creates the namespace and the Deployment with
// every pod Running and Ready. Then it starts the collector with the
// admission endpoint on TLS and registers the validating webhook, waiting
// until kube-apiserver calls it. On error everything started is stopped again.
func Start(ctx context.Context, opts Options) (*Scenario, error) {
	s := &Scenario{opts: opts.withDefaults()}
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

func (o Options) withDefaults() Options {
	if o.ConfigPath == "" {
		o.ConfigPath = DefaultConfig
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Deployment == "" {
		o.Deployment = DefaultDeployment
	}
	if o.Replicas == 0 {
		o.Replicas = DefaultReplicas
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	return o
}

func (s *Scenario) start(ctx context.Context) error {
	if err := s.prepareWorkDir(); err != nil {
		return err
	}

	s.opts.Progress("starting etcd, kube-apiserver and kube-controller-manager")
	var err error
	s.cluster, err = k8stest.Start(ctx, k8stest.Options{ControllerManager: true, DataDir: filepath.Join(s.workDir, "cluster")})
	if err != nil {
		return err
	}

	s.opts.Progress("creating Deployment %s/%s with %d replicas", s.opts.Namespace, s.opts.Deployment, s.opts.Replicas)
	if s.Pods, err = s.createWorkload(ctx); err != nil {
		return err
	}

	s.opts.Progress("starting the collector")
	if err := s.startCollector(ctx); err != nil {
		return err
	}

	s.opts.Progress("registering the admission webhook")
	return s.registerWebhook(ctx)
}

func (s *Scenario) prepareWorkDir() error {
	s.workDir = s.opts.WorkDir
	if s.workDir == "" {
		dir, err := os.MkdirTemp("", "veltrim-e2e-")
		if err != nil {
			return fmt.Errorf("failed to create the work folder: %w", err)
		}
		s.workDir, s.removeWorkDir = dir, true
	}
	for _, sub := range []string{"cluster", "certs"} {
		if err := os.MkdirAll(filepath.Join(s.workDir, sub), 0o700); err != nil {
			return fmt.Errorf("failed to create the work folder: %w", err)
		}
	}
	return nil
}

func (s *Scenario) createWorkload(ctx context.Context) ([]corev1.Pod, error) {
	client := s.cluster.Client()
	if _, err := k8stest.CreateNamespace(ctx, client, s.opts.Namespace); err != nil {
		return nil, fmt.Errorf("failed to create namespace %s: %w", s.opts.Namespace, err)
	}
	deployment, err := k8stest.CreateDeployment(ctx, client, s.opts.Namespace, s.opts.Deployment, s.opts.Replicas)
	if err != nil {
		return nil, fmt.Errorf("failed to create Deployment %s: %w", s.opts.Deployment, err)
	}
	return k8stest.MakeDeploymentReady(ctx, client, deployment, k8stest.DefaultNodeName)
}

func (s *Scenario) startCollector(ctx context.Context) error {
	var err error
	if s.cert, err = k8stest.WriteServingCert(filepath.Join(s.workDir, "certs")); err != nil {
		return err
	}
	free, err := freePorts(4)
	if err != nil {
		return err
	}
	s.ports = ports{otlp: free[0], health: free[1], metrics: free[2], admission: free[3]}

	env := map[string]string{
		"VELTRIM_OTLP_PORT":      strconv.Itoa(s.ports.otlp),
		"VELTRIM_HEALTH_PORT":    strconv.Itoa(s.ports.health),
		"VELTRIM_METRICS_PORT":   strconv.Itoa(s.ports.metrics),
		"VELTRIM_ADMISSION_PORT": strconv.Itoa(s.ports.admission),
		"VELTRIM_TLS_CERT":       s.cert.CertFile,
		"VELTRIM_TLS_KEY":        s.cert.KeyFile,
		"VELTRIM_KUBECONFIG":     s.cluster.KubeconfigPath(),
		"VELTRIM_SPANS_FILE":     s.SpansFile(),
	}
	s.collector, err = StartCollector(s.opts.Binaries.Collector, s.opts.ConfigPath, filepath.Join(s.workDir, "collector.log"), env)
	if err != nil {
		return err
	}
	if err := s.collector.WaitHealthy(ctx, fmt.Sprintf("http://127.0.0.1:%d/", s.ports.health)); err != nil {
		return err
	}
	return s.waitAdmissionSynced(ctx)
}

// waitAdmissionSynced waits until the admission endpoint's /healthz returns
// 200 over TLS, which it does once its pod cache has synced.
func (s *Scenario) waitAdmissionSynced(ctx context.Context) error {
	tlsClient := loopbackClient(&tls.Config{RootCAs: s.cert.CA.CertPool(), MinVersion: tls.VersionTLS12})
	url := s.AdmissionURL("/healthz")
	return pollUntil(ctx, "the admission endpoint "+url+" to answer 200", func(ctx context.Context) (bool, error) {
		if err := s.collector.exited(); err != nil {
			return false, err
		}
		return httpStatus(ctx, tlsClient, url) == 200, nil
	})
}

// registerWebhook registers /validate for scale requests, fail-open as in
// deploy/, and waits until kube-apiserver calls it. A server-side dry run of
// a scale-down by one replica goes through admission without changing
// anything, and the admission endpoint counts each request it decides.
func (s *Scenario) registerWebhook(ctx context.Context) error {
	_, err := k8stest.RegisterValidatingWebhook(ctx, s.cluster.Client(), k8stest.WebhookOptions{
		Name:           WebhookName,
		URL:            s.AdmissionURL("/validate"),
		CABundle:       s.cert.CA.CertPEM,
		Rules:          k8stest.ScaleRules(),
		FailurePolicy:  admissionregistrationv1.Ignore,
		TimeoutSeconds: webhookTimeoutSeconds,
	})
	if err != nil {
		return fmt.Errorf("failed to register the webhook: %w", err)
	}

	return pollUntil(ctx, "kube-apiserver to call the webhook", func(ctx context.Context) (bool, error) {
		probe := kubectlScale(ctx, s.opts.Binaries.Kubectl, s.cluster.KubeconfigPath(), s.opts.Namespace, s.opts.Deployment, s.opts.Replicas-1, true)
		if !probe.Accepted() {
			return false, fmt.Errorf("dry-run scale failed: %w: %s", probe.Err, probe.Output)
		}
		metrics, err := s.Metrics(ctx)
		if err != nil {
			return false, err
		}
		return metrics.Value(MetricAdmissionDecision, nil) > 0, nil
	})
}

// Stop stops the collector and the control plane and removes the work
// folder if Start created it. It is safe to call more than once.
func (s *Scenario) Stop() error {
	var errs []error
	if s.collector != nil {
		if err := s.collector.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("collector: %w", err))
		}
	}
	if s.cluster != nil {
		s.cluster.Stop()
	}
	if s.removeWorkDir {
		if err := os.RemoveAll(s.workDir); err != nil {
			errs = append(errs, err)
		}
		s.removeWorkDir = false
	}
	return errors.Join(errs...)
}

// Client returns a clientset of the cluster's admin user.
func (s *Scenario) Client() kubernetes.Interface {
	return s.cluster.Client()
}

// Cluster returns the control plane.
func (s *Scenario) Cluster() *k8stest.Cluster {
	return s.cluster
}

// Collector returns the collector process.
func (s *Scenario) Collector() *Collector {
	return s.collector
}

// Options returns the options with defaults applied.
func (s *Scenario) Options() Options {
	return s.opts
}

// OTLPEndpoint returns the collector's OTLP/gRPC address.
func (s *Scenario) OTLPEndpoint() string {
	return fmt.Sprintf("127.0.0.1:%d", s.ports.otlp)
}

// AdmissionURL returns the URL of path on the admission endpoint.
func (s *Scenario) AdmissionURL(path string) string {
	return fmt.Sprintf("https://127.0.0.1:%d%s", s.ports.admission, path)
}

// MetricsURL returns the collector's Prometheus endpoint.
func (s *Scenario) MetricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", s.ports.metrics)
}

// SpansFile returns the file the collector's file exporter writes.
func (s *Scenario) SpansFile() string {
	return filepath.Join(s.workDir, "spans.jsonl")
}

// Metrics scrapes the collector's own metrics.
func (s *Scenario) Metrics(ctx context.Context) (Metrics, error) {
	return ScrapeMetrics(ctx, s.MetricsURL())
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1. They
// are released before the collector binds them, so another process could
// take one in between. The collector then fails to start and its log names
// the port.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("failed to find a free loopback port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
