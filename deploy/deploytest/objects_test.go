package deploytest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Names the manifests in deploy/ use.
const (
	veltrimNamespace  = "veltrim-system"
	agentName         = "veltrim-agent"
	admissionName     = "veltrim-admission"
	webhookConfigName = "veltrim"
	guardLabel        = "veltrim.io/guard"
	guardValue        = "enabled"
	modeEnv           = "VELTRIM_ADMISSION_MODE"
	exampleNamespace  = "llm-serving"
	exampleWorkload   = "llm-server"
)

// convert fills typed with the content of obj.
func convert(t *testing.T, obj *unstructured.Unstructured, typed any) {
	t.Helper()
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, typed),
		"%s %s does not decode", obj.GetKind(), obj.GetName())
}

func admissionDeployment(t *testing.T, objects []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	convert(t, findObject(t, objects, "Deployment", admissionName), &d)
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	return &d
}

// containerEnv returns the literal value of an environment variable, or
// fails the test when the container does not set it.
func containerEnv(t *testing.T, c corev1.Container, name string) string {
	t.Helper()
	for _, env := range c.Env {
		if env.Name == name {
			return env.Value
		}
	}
	require.Failf(t, "env not set", "container %s has no %s", c.Name, name)
	return ""
}

// fieldRefEnv returns the downward API field an environment variable reads.
func fieldRefEnv(c corev1.Container, name string) string {
	for _, env := range c.Env {
		if env.Name == name && env.ValueFrom != nil && env.ValueFrom.FieldRef != nil {
			return env.ValueFrom.FieldRef.FieldPath
		}
	}
	return ""
}

func TestClusterRoleGrantsPodAccessOnly(t *testing.T) {
	objects := buildObjects(t, "base")

	var role rbacv1.ClusterRole
	convert(t, findObject(t, objects, "ClusterRole", "veltrim"), &role)
	require.Len(t, role.Rules, 1, "the veltrim ClusterRole has one rule")
	rule := role.Rules[0]
	assert.Equal(t, []string{""}, rule.APIGroups)
	assert.Equal(t, []string{"pods"}, rule.Resources)
	assert.ElementsMatch(t, []string{"get", "list", "watch", "patch"}, rule.Verbs)
	assert.Empty(t, rule.ResourceNames)
	assert.Empty(t, rule.NonResourceURLs)

	var binding rbacv1.ClusterRoleBinding
	convert(t, findObject(t, objects, "ClusterRoleBinding", "veltrim"), &binding)
	assert.Equal(t, "veltrim", binding.RoleRef.Name)
	assert.ElementsMatch(t, []rbacv1.Subject{
		{Kind: "ServiceAccount", Name: agentName, Namespace: veltrimNamespace},
		{Kind: "ServiceAccount", Name: admissionName, Namespace: veltrimNamespace},
	}, binding.Subjects)
}

func TestKubeletStatsRoleIsReadOnly(t *testing.T) {
	objects := buildObjects(t, "base")

	var role rbacv1.ClusterRole
	convert(t, findObject(t, objects, "ClusterRole", "veltrim-kubelet-stats"), &role)
	for _, rule := range role.Rules {
		assert.Equal(t, []string{"get"}, rule.Verbs)
		assert.Subset(t, []string{"nodes/stats", "nodes/pods"}, rule.Resources)
	}

	var binding rbacv1.ClusterRoleBinding
	convert(t, findObject(t, objects, "ClusterRoleBinding", "veltrim-kubelet-stats"), &binding)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: agentName, Namespace: veltrimNamespace}},
		binding.Subjects, "only the node agents read kubelet statistics")
}

// checkWebhook checks the settings both webhook kinds share.
func checkWebhook(t *testing.T, name string, rules []admissionregistrationv1.RuleWithOperations,
	failurePolicy *admissionregistrationv1.FailurePolicyType, timeout *int32,
	sideEffects *admissionregistrationv1.SideEffectClass, versions []string,
	selector map[string]string, service *admissionregistrationv1.ServiceReference, path string) {
	t.Helper()

	require.Len(t, rules, 1, "webhook %s", name)
	assert.Equal(t, []admissionregistrationv1.OperationType{admissionregistrationv1.Update}, rules[0].Operations)
	assert.Equal(t, []string{"apps"}, rules[0].APIGroups)
	assert.Equal(t, []string{"v1"}, rules[0].APIVersions)
	assert.ElementsMatch(t, []string{"deployments/scale", "statefulsets/scale"}, rules[0].Resources)

	require.NotNil(t, failurePolicy)
	assert.Equal(t, admissionregistrationv1.Ignore, *failurePolicy)
	require.NotNil(t, timeout)
	assert.Equal(t, int32(2), *timeout)
	require.NotNil(t, sideEffects)
	assert.Equal(t, admissionregistrationv1.SideEffectClassNone, *sideEffects)
	assert.Equal(t, []string{"v1"}, versions)
	assert.Equal(t, map[string]string{guardLabel: guardValue}, selector)

	require.NotNil(t, service, "webhook %s must call the admission Service", name)
	assert.Equal(t, admissionName, service.Name)
	assert.Equal(t, veltrimNamespace, service.Namespace)
	require.NotNil(t, service.Path)
	assert.Equal(t, path, *service.Path)
}

func TestValidatingWebhookConfiguration(t *testing.T) {
	obj := findObject(t, buildObjects(t, "base"), "ValidatingWebhookConfiguration", webhookConfigName)
	assert.Equal(t, veltrimNamespace+"/"+admissionName, obj.GetAnnotations()["cert-manager.io/inject-ca-from"])

	var config admissionregistrationv1.ValidatingWebhookConfiguration
	convert(t, obj, &config)
	require.Len(t, config.Webhooks, 1)
	w := config.Webhooks[0]
	require.NotNil(t, w.NamespaceSelector)
	assert.Empty(t, w.NamespaceSelector.MatchExpressions)
	checkWebhook(t, w.Name, w.Rules, w.FailurePolicy, w.TimeoutSeconds, w.SideEffects,
		w.AdmissionReviewVersions, w.NamespaceSelector.MatchLabels, w.ClientConfig.Service, "/validate")
}

func TestMutatingWebhookConfiguration(t *testing.T) {
	obj := findObject(t, buildObjects(t, "overlays/clamp"), "MutatingWebhookConfiguration", webhookConfigName)
	assert.Equal(t, veltrimNamespace+"/"+admissionName, obj.GetAnnotations()["cert-manager.io/inject-ca-from"])

	var config admissionregistrationv1.MutatingWebhookConfiguration
	convert(t, obj, &config)
	require.Len(t, config.Webhooks, 1)
	w := config.Webhooks[0]
	require.NotNil(t, w.NamespaceSelector)
	assert.Empty(t, w.NamespaceSelector.MatchExpressions)
	checkWebhook(t, w.Name, w.Rules, w.FailurePolicy, w.TimeoutSeconds, w.SideEffects,
		w.AdmissionReviewVersions, w.NamespaceSelector.MatchLabels, w.ClientConfig.Service, "/mutate")
}

func TestCertificateCoversAdmissionService(t *testing.T) {
	objects := buildObjects(t, "base")

	cert := findObject(t, objects, "Certificate", admissionName)
	dnsNames, _, err := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	require.NoError(t, err)
	assert.Contains(t, dnsNames, admissionName+"."+veltrimNamespace+".svc",
		"the kube-apiserver calls the Service by this name")
	secretName, _, err := unstructured.NestedString(cert.Object, "spec", "secretName")
	require.NoError(t, err)

	deployment := admissionDeployment(t, objects)
	var mounted bool
	for _, v := range deployment.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secretName {
			mounted = true
		}
	}
	assert.True(t, mounted, "the admission pods must mount the Certificate's Secret %q", secretName)
}

func TestAgentDaemonSet(t *testing.T) {
	var ds appsv1.DaemonSet
	convert(t, findObject(t, buildObjects(t, "base"), "DaemonSet", agentName), &ds)

	spec := ds.Spec.Template.Spec
	assert.Equal(t, agentName, spec.ServiceAccountName)
	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	assert.Equal(t, "spec.nodeName", fieldRefEnv(c, "K8S_NODE_NAME"), "kubeletstats reads its own node")
	assert.Equal(t, "status.podIP", fieldRefEnv(c, "POD_IP"))

	hostPorts := map[int32]bool{}
	for _, p := range c.Ports {
		if p.HostPort != 0 {
			hostPorts[p.HostPort] = true
		}
	}
	assert.Equal(t, map[int32]bool{4317: true, 4318: true}, hostPorts, "pods send OTLP to the agent on their node")
	checkNonRoot(t, spec)
}

func TestAdmissionDeployment(t *testing.T) {
	objects := buildObjects(t, "base")
	deployment := admissionDeployment(t, objects)

	require.NotNil(t, deployment.Spec.Replicas)
	assert.Equal(t, int32(2), *deployment.Spec.Replicas)
	assert.Equal(t, admissionName, deployment.Spec.Template.Spec.ServiceAccountName)
	assert.Equal(t, "deny", containerEnv(t, deployment.Spec.Template.Spec.Containers[0], modeEnv))
	checkNonRoot(t, deployment.Spec.Template.Spec)

	var service corev1.Service
	convert(t, findObject(t, objects, "Service", admissionName), &service)
	assert.Equal(t, deployment.Spec.Selector.MatchLabels, service.Spec.Selector)
	require.Len(t, service.Spec.Ports, 1)
	assert.Equal(t, int32(443), service.Spec.Ports[0].Port, "the webhook configurations call port 443")

	var pdb policyv1.PodDisruptionBudget
	convert(t, findObject(t, objects, "PodDisruptionBudget", admissionName), &pdb)
	require.NotNil(t, pdb.Spec.MinAvailable)
	assert.Equal(t, 1, pdb.Spec.MinAvailable.IntValue())
	assert.Equal(t, deployment.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels)
}

// checkNonRoot checks that a pod runs as the image's non-root user with a
// read-only root file system and no capabilities.
func checkNonRoot(t *testing.T, spec corev1.PodSpec) {
	t.Helper()

	require.NotNil(t, spec.SecurityContext)
	require.NotNil(t, spec.SecurityContext.RunAsNonRoot)
	assert.True(t, *spec.SecurityContext.RunAsNonRoot)
	require.NotNil(t, spec.SecurityContext.RunAsUser)
	assert.Equal(t, int64(65532), *spec.SecurityContext.RunAsUser, "the distroless nonroot user")
	for _, c := range spec.Containers {
		require.NotNil(t, c.SecurityContext, "container %s", c.Name)
		require.NotNil(t, c.SecurityContext.ReadOnlyRootFilesystem)
		assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
		require.NotNil(t, c.SecurityContext.AllowPrivilegeEscalation)
		assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
		require.NotNil(t, c.SecurityContext.Capabilities)
		assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
	}
}

func TestExampleWorkloadSettings(t *testing.T) {
	objects := buildObjects(t, "examples/llm-workload")

	var ns corev1.Namespace
	convert(t, findObject(t, objects, "Namespace", exampleNamespace), &ns)
	assert.Equal(t, guardValue, ns.Labels[guardLabel], "the example namespace opts in")

	var deployment appsv1.Deployment
	convert(t, findObject(t, objects, "Deployment", exampleWorkload), &deployment)
	require.Len(t, deployment.Spec.Template.Spec.Containers, 1)
	requests := deployment.Spec.Template.Spec.Containers[0].Resources.Requests
	assert.True(t, requests.Cpu().Equal(resource.MustParse("500m")), "requests.cpu is %s", requests.Cpu())
	assert.True(t, requests.Memory().Equal(resource.MustParse("1200Mi")), "requests.memory is %s", requests.Memory())

	var hpa autoscalingv2.HorizontalPodAutoscaler
	convert(t, findObject(t, objects, "HorizontalPodAutoscaler", exampleWorkload), &hpa)
	assert.Equal(t, exampleWorkload, hpa.Spec.ScaleTargetRef.Name)
	require.NotNil(t, hpa.Spec.Behavior)
	require.NotNil(t, hpa.Spec.Behavior.ScaleDown)
	require.NotNil(t, hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds)
	assert.Equal(t, int32(1800), *hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds)
}
