// Package k8stest runs a real Kubernetes control plane on loopback for tests
// and demos: etcd, kube-apiserver and, when asked, kube-controller-manager,
// built from their Go modules by hack/build-kube.sh into VELTRIM_KUBE_BIN_DIR
// (default: <repository root>/_bin).
//
// No kubelet and no scheduler run, so the helpers in this package do their
// visible work where tests need it. CreateNode registers a Node. MakePodsReady
// binds pods to it and reports them Running and Ready. The Cluster
// force-deletes pods that carry a deletionTimestamp, the part of pod deletion
// a kubelet would finish (see Options.KeepTerminatingPods). With
// Options.ReadyPods the Cluster also makes every new pod Ready on its own.
package k8stest
