// Package deploytest checks the manifests in deploy/. Every kustomization
// builds with kubectl kustomize, and the built objects pass server-side
// dry-run against a local kube-apiserver. The example workload applies for
// real. The webhook configurations from deploy/, pointed at a loopback
// admission endpoint, admit and deny scale requests. The package has tests
// only.
//
// The tests need the binaries of `make kube-bins` (kubectl, etcd,
// kube-apiserver, kube-controller-manager); see internal/k8stest.
package deploytest
