package k8stest

import (
	"context"
	"errors"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultWebhookTimeoutSeconds is the webhook timeout when WebhookOptions
// sets none, kube-apiserver's own default.
const DefaultWebhookTimeoutSeconds = 10

// WebhookOptions describe one admission webhook served on loopback.
//
// kube-apiserver starts calling a webhook once its informer has seen the
// configuration, usually within a second of the create. A test should retry
// its first request until the webhook has seen one rather than assume it.
type WebhookOptions struct {
	// Name names both the configuration and its webhook. kube-apiserver
	// requires a fully qualified name such as "scale.veltrim.io".
	Name string

	// URL is the webhook's HTTPS address, e.g. https://127.0.0.1:8443/validate.
	URL string

	// CABundle is the PEM CA that signed the webhook's serving certificate.
	CABundle []byte

	// Rules select the requests sent to the webhook.
	Rules []admissionregistrationv1.RuleWithOperations

	// FailurePolicy applies when the webhook cannot be reached or fails.
	// Default: Fail, so that a test notices a webhook that never responded.
	FailurePolicy admissionregistrationv1.FailurePolicyType

	// TimeoutSeconds bounds each call. Default: DefaultWebhookTimeoutSeconds.
	TimeoutSeconds int32

	// NamespaceSelector limits the webhook to matching namespaces. Default: all.
	NamespaceSelector *metav1.LabelSelector
}

// ScaleRules match UPDATE requests on the scale subresource of Deployments,
// ReplicaSets and StatefulSets, which kubectl scale and the HPA send.
func ScaleRules() []admissionregistrationv1.RuleWithOperations {
	return []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{
			APIGroups:   []string{"apps"},
			APIVersions: []string{"v1"},
			Resources:   []string{"deployments/scale", "replicasets/scale", "statefulsets/scale"},
		},
	}}
}

// RegisterValidatingWebhook creates a ValidatingWebhookConfiguration with one
// webhook described by opts.
func RegisterValidatingWebhook(ctx context.Context, client kubernetes.Interface, opts WebhookOptions) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}

	common := opts.withDefaults()
	config := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: opts.Name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    opts.Name,
			ClientConfig:            common.clientConfig,
			Rules:                   opts.Rules,
			FailurePolicy:           &common.failurePolicy,
			SideEffects:             &common.sideEffects,
			TimeoutSeconds:          &common.timeoutSeconds,
			NamespaceSelector:       opts.NamespaceSelector,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	return client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, config, metav1.CreateOptions{})
}

// RegisterMutatingWebhook creates a MutatingWebhookConfiguration with one
// webhook described by opts.
func RegisterMutatingWebhook(ctx context.Context, client kubernetes.Interface, opts WebhookOptions) (*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}

	common := opts.withDefaults()
	config := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: opts.Name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    opts.Name,
			ClientConfig:            common.clientConfig,
			Rules:                   opts.Rules,
			FailurePolicy:           &common.failurePolicy,
			SideEffects:             &common.sideEffects,
			TimeoutSeconds:          &common.timeoutSeconds,
			NamespaceSelector:       opts.NamespaceSelector,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	return client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, config, metav1.CreateOptions{})
}

func (opts WebhookOptions) validate() error {
	var errs []error
	if opts.Name == "" {
		errs = append(errs, errors.New("webhook Name is empty"))
	}
	if opts.URL == "" {
		errs = append(errs, errors.New("webhook URL is empty"))
	}
	if len(opts.CABundle) == 0 {
		errs = append(errs, errors.New("webhook CABundle is empty"))
	}
	if len(opts.Rules) == 0 {
		errs = append(errs, errors.New("webhook Rules are empty"))
	}
	return errors.Join(errs...)
}

// webhookFields are the fields both webhook kinds share, with defaults applied.
type webhookFields struct {
	clientConfig   admissionregistrationv1.WebhookClientConfig
	failurePolicy  admissionregistrationv1.FailurePolicyType
	sideEffects    admissionregistrationv1.SideEffectClass
	timeoutSeconds int32
}

func (opts WebhookOptions) withDefaults() webhookFields {
	url := opts.URL
	fields := webhookFields{
		clientConfig:   admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: opts.CABundle},
		failurePolicy:  opts.FailurePolicy,
		sideEffects:    admissionregistrationv1.SideEffectClassNone,
		timeoutSeconds: opts.TimeoutSeconds,
	}
	if fields.failurePolicy == "" {
		fields.failurePolicy = admissionregistrationv1.Fail
	}
	if fields.timeoutSeconds == 0 {
		fields.timeoutSeconds = DefaultWebhookTimeoutSeconds
	}
	return fields
}
