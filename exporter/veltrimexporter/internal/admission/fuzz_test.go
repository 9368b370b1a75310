package admission

import (
	"testing"
)

// FuzzDecodeReview feeds arbitrary bodies to the decoder and the request
// parser. Neither may panic, and a body the decoder accepts always carries
// a request with a UID.
func FuzzDecodeReview(f *testing.F) {
	for _, name := range []string{
		"scale-deployment.json", "scale-statefulset-to-zero.json", "update-deployment.json",
		"create-pod.json", "admission-review-v1beta1.json",
	} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"}}`))
	f.Add([]byte(`null`))

	f.Fuzz(func(t *testing.T, body []byte) {
		review, err := decodeReview(body)
		if err != nil {
			if review != nil {
				t.Fatalf("decodeReview returned a review with error %v", err)
			}
			return
		}
		if review.Request == nil || review.Request.UID == "" {
			t.Fatalf("decodeReview accepted a review without a request UID: %q", body)
		}

		sd, ok, err := parseScaleDown(review.Request)
		if ok && (err != nil || sd.selector == nil || sd.selector.Empty() || sd.newReplicas >= sd.oldReplicas) {
			t.Fatalf("parseScaleDown returned an unusable scale-down %+v, err %v", sd, err)
		}
	})
}
