package admission

import (
	"encoding/json"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// reviewTypeMeta is the apiVersion and kind of every review this server
// reads and writes. The kube-apiserver sends v1 when the webhook
// configuration lists v1 in admissionReviewVersions.
var reviewTypeMeta = metav1.TypeMeta{
	APIVersion: admissionv1.SchemeGroupVersion.String(),
	Kind:       "AdmissionReview",
}

// errInvalidReview wraps every reason a body is not a usable AdmissionReview.
var errInvalidReview = errors.New("invalid AdmissionReview")

// decodeReview parses an AdmissionReview v1 body and checks that it carries
// a request with a UID. The error names the first thing that is wrong.
func decodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, fmt.Errorf("%w: body is not valid JSON: %w", errInvalidReview, err)
	}

	switch {
	case review.APIVersion != reviewTypeMeta.APIVersion:
		return nil, fmt.Errorf("%w: apiVersion is %q, expected %q", errInvalidReview, review.APIVersion, reviewTypeMeta.APIVersion)
	case review.Kind != reviewTypeMeta.Kind:
		return nil, fmt.Errorf("%w: kind is %q, expected %q", errInvalidReview, review.Kind, reviewTypeMeta.Kind)
	case review.Request == nil:
		return nil, fmt.Errorf("%w: request is missing", errInvalidReview)
	case review.Request.UID == "":
		return nil, fmt.Errorf("%w: request.uid is empty", errInvalidReview)
	}
	return &review, nil
}

// encodeReview returns the body of the response to a review.
func encodeReview(response *admissionv1.AdmissionResponse) ([]byte, error) {
	return json.Marshal(&admissionv1.AdmissionReview{TypeMeta: reviewTypeMeta, Response: response})
}
