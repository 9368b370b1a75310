package publisher

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/veltrix/veltrim/internal/podstate"
)

// fieldManager names the exporter in the pods' managedFields.
const fieldManager = "veltrim-exporter"

// podPatch is a JSON merge patch of a pod's metadata. It names only the
// veltrim annotations, so other annotations are left as they are, and it
// carries the pod UID: the API server rejects the patch when the pod of that
// name is a different one.
type podPatch struct {
	Metadata patchMetadata `json:"metadata"`
}

type patchMetadata struct {
	UID types.UID `json:"uid"`
	// Annotations maps names to values; a nil value removes the annotation.
	Annotations map[string]*string `json:"annotations"`
}

// patchBody returns the merge patch that publishes snap on the pod id.
func (p *Publisher) patchBody(id podstate.Identity, snap snapshot) ([]byte, error) {
	return json.Marshal(podPatch{Metadata: patchMetadata{
		UID:         types.UID(id.UID),
		Annotations: snap.annotations(p.settings.AnnotationPrefix, p.settings.DeletionCost),
	}})
}

// patch publishes snap on the pod id.
func (p *Publisher) patch(ctx context.Context, id podstate.Identity, snap snapshot) error {
	body, err := p.patchBody(id, snap)
	if err != nil {
		return fmt.Errorf("failed to encode the patch: %w", err)
	}
	_, err = p.client.CoreV1().Pods(id.Namespace).Patch(ctx, id.Name, types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: fieldManager})
	return err
}
