// Command cluster starts the k8stest control plane on loopback for a person:
// etcd, kube-apiserver and kube-controller-manager. It prints the kubeconfig
// path and stops everything on SIGINT or SIGTERM.
//
// No scheduler or kubelet runs. Unless -ready-pods=false, the program binds
// every new pod to one Node and reports it Running and Ready in their place.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/veltrix/veltrim/internal/k8stest"
)

func main() {
	os.Exit(run())
}

func run() int {
	dataDir := flag.String("data-dir", "", "folder for etcd data, certificates, the kubeconfig and component logs (default: a temporary folder removed on exit)")
	readyPods := flag.Bool("ready-pods", true, "bind every new pod to node "+k8stest.DefaultNodeName+" and report it Running and Ready, in place of the scheduler and kubelet")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("starting etcd, kube-apiserver and kube-controller-manager")
	cluster, err := k8stest.Start(ctx, k8stest.Options{ControllerManager: true, ReadyPods: *readyPods, DataDir: *dataDir})
	if err != nil {
		logger.Error("failed to start the control plane", "error", err)
		return 1
	}
	defer func() {
		logger.Info("stopping the control plane")
		cluster.Stop()
		logger.Info("stopped")
	}()

	fmt.Printf("Control plane ready at %s\n", cluster.Config().Host)
	fmt.Printf("  export KUBECONFIG=%s\n", cluster.KubeconfigPath())
	fmt.Printf("Component logs are in %s. Press Ctrl-C to stop.\n", cluster.DataDir())

	<-ctx.Done()
	return 0
}
