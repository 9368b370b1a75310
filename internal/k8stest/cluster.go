package k8stest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultStartTimeout bounds how long Start waits for all components to turn
// ready. A warm start takes a few seconds; the bound leaves room for a
// machine busy compiling.
const DefaultStartTimeout = 2 * time.Minute

// Options configure a Cluster. The zero value starts etcd and kube-apiserver.
type Options struct {
	// ControllerManager starts kube-controller-manager with Controllers.
	ControllerManager bool

	// Controllers are the kube-controller-manager controllers to run.
	// Default: DefaultControllers.
	Controllers []string

	// DataDir holds etcd's data, the certificates, the kubeconfig and one
	// log file per component. Default: a new temporary folder that Stop removes.
	DataDir string

	// BinDir holds the binaries. Default: BinDir().
	BinDir string

	// StartTimeout bounds the wait for the components to turn ready.
	// Default: DefaultStartTimeout.
	StartTimeout time.Duration

	// KeepTerminatingPods leaves pods that have a deletionTimestamp in place.
	// By default the Cluster force-deletes them, as a kubelet would once the
	// containers stopped.
	KeepTerminatingPods bool

	// ReadyPods binds every pod to Node DefaultNodeName, which the Cluster
	// registers, and reports it Running and Ready as soon as it appears, in
	// place of the scheduler and the kubelet. Tests that want to control
	// when pods turn ready leave it off and call MakePodsReady.
	ReadyPods bool

	// APIServerArgs are extra kube-apiserver flags. They come after the
	// defaults, so a flag given here overrides the default value.
	APIServerArgs []string
}

// Cluster is a running control plane on loopback.
type Cluster struct {
	config         *rest.Config
	client         kubernetes.Interface
	kubeconfigPath string
	dataDir        string
	removeDataDir  bool
	serving        *ServingCert

	// processes are in start order and stopped in reverse order.
	processes []*process
	// apiserver is the index of kube-apiserver in processes; its binary
	// and flags are kept so that RestartAPIServer can start it again.
	apiserver       int
	apiserverBinary string
	apiserverArgs   []string
	apiserverMu     sync.Mutex
	kubelet         *kubeletStandIn
	stopOnce        sync.Once
}

// Start starts etcd, kube-apiserver and, if opts.ControllerManager is set,
// kube-controller-manager on free loopback ports, and waits until they are
// ready. The processes outlive ctx: only Stop ends them.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	binaries, err := resolveBinaries(opts)
	if err != nil {
		return nil, err
	}

	c := &Cluster{dataDir: opts.DataDir}
	if c.dataDir == "" {
		if c.dataDir, err = os.MkdirTemp("", "veltrim-cluster-"); err != nil {
			return nil, fmt.Errorf("failed to create the data folder: %w", err)
		}
		c.removeDataDir = true
	}

	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if err := c.start(ctx, opts, binaries); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, opts Options, binaries map[string]string) error {
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	etcdClientPort, etcdPeerPort, apiserverPort, controllerManagerPort := ports[0], ports[1], ports[2], ports[3]

	creds, err := c.writeClientConfig(apiserverPort)
	if err != nil {
		return err
	}

	etcd, etcdURL, err := startEtcd(ctx, binaries[etcdBinary], c.dataDir, etcdClientPort, etcdPeerPort)
	if err != nil {
		return err
	}
	c.processes = append(c.processes, etcd)

	args := append(apiserverArgs(c.dataDir, etcdURL, apiserverPort, creds), opts.APIServerArgs...)
	apiserver, err := startAPIServer(ctx, binaries[apiserverBinary], args, c.dataDir, c.client)
	if err != nil {
		return err
	}
	c.apiserver, c.apiserverBinary, c.apiserverArgs = len(c.processes), binaries[apiserverBinary], args
	c.processes = append(c.processes, apiserver)

	if opts.ControllerManager {
		controllers := opts.Controllers
		if len(controllers) == 0 {
			controllers = DefaultControllers
		}
		args := controllerManagerArgs(c.kubeconfigPath, controllerManagerPort, controllers, creds)
		controllerManager, err := startControllerManager(ctx, binaries[controllerManagerBinary], args, c.dataDir, controllerManagerPort, creds)
		if err != nil {
			return err
		}
		c.processes = append(c.processes, controllerManager)
	}

	return c.startKubeletStandIn(ctx, opts)
}

// writeClientConfig writes the credentials and the admin kubeconfig into the
// data folder and creates the admin client.
func (c *Cluster) writeClientConfig(apiserverPort int) (*credentials, error) {
	creds, err := writeCredentials(filepath.Join(c.dataDir, "pki"))
	if err != nil {
		return nil, err
	}

	c.serving = creds.serving
	c.config = adminConfig(fmt.Sprintf("https://127.0.0.1:%d", apiserverPort), creds)
	if c.client, err = kubernetes.NewForConfig(c.config); err != nil {
		return nil, err
	}

	c.kubeconfigPath = filepath.Join(c.dataDir, "kubeconfig")
	return creds, writeKubeconfig(c.kubeconfigPath, c.config)
}

func (c *Cluster) startKubeletStandIn(ctx context.Context, opts Options) error {
	if opts.KeepTerminatingPods && !opts.ReadyPods {
		return nil
	}

	readyNode := ""
	if opts.ReadyPods {
		readyNode = DefaultNodeName
		if err := ensureNode(ctx, c.client, readyNode); err != nil {
			return err
		}
	}

	var err error
	c.kubelet, err = startKubeletStandIn(c.client, !opts.KeepTerminatingPods, readyNode)
	return err
}

// resolveBinaries returns the path of each binary the options need, or an
// error that names the make target that builds them.
func resolveBinaries(opts Options) (map[string]string, error) {
	dir := opts.BinDir
	if dir == "" {
		var err error
		if dir, err = BinDir(); err != nil {
			return nil, err
		}
	}

	names := []string{etcdBinary, apiserverBinary}
	if opts.ControllerManager {
		names = append(names, controllerManagerBinary)
	}
	paths := make(map[string]string, len(names))
	var missing []string
	for _, name := range names {
		paths[name] = filepath.Join(dir, name)
		if !isExecutable(paths[name]) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, missingBinariesError(dir, missing)
	}
	return paths, nil
}

// Config returns a copy of the admin rest.Config. The admin user is in the
// system:masters group, so RBAC allows it everything.
func (c *Cluster) Config() *rest.Config {
	return rest.CopyConfig(c.config)
}

// Client returns a clientset that authenticates as the admin user.
func (c *Cluster) Client() kubernetes.Interface {
	return c.client
}

// KubeconfigPath returns the path of a kubeconfig file for the admin user.
func (c *Cluster) KubeconfigPath() string {
	return c.kubeconfigPath
}

// DataDir returns the folder with the data, certificates and component logs.
func (c *Cluster) DataDir() string {
	return c.dataDir
}

// ServingCert returns the CA and certificate the components serve with. Its
// CA also works as a caBundle for a webhook served with a certificate from
// ServingCert().CA.IssueServingCert.
func (c *Cluster) ServingCert() *ServingCert {
	return c.serving
}

// LogTails returns the last lines of each component's log, for a failed test.
func (c *Cluster) LogTails() string {
	var b strings.Builder
	for _, p := range c.processes {
		fmt.Fprintf(&b, "--- %s (%s)\n%s\n", p.name, p.logPath, p.logTail())
	}
	return b.String()
}

// Stop ends the components in reverse start order, each with SIGTERM and
// after stopGracePeriod SIGKILL, and removes the data folder if Start created
// it. Stop is safe to call more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		if c.kubelet != nil {
			c.kubelet.stop()
		}
		for i := len(c.processes) - 1; i >= 0; i-- {
			c.processes[i].stop()
		}
		if c.removeDataDir {
			_ = os.RemoveAll(c.dataDir)
		}
	})
}
