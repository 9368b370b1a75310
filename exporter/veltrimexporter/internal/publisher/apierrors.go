package publisher

import (
	"context"
	"errors"
	"net"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// Reasons a pod counts as gone. Both mean the pod the state belongs to no
// longer exists, so retrying cannot succeed.
const (
	goneNotFound    = "not_found"
	goneUIDMismatch = "uid_mismatch"
)

// Failure classes of a patch, used as a metric attribute and to rate-limit
// the log per class.
const (
	failureUnreachable = "unreachable"
	failureTimeout     = "timeout"
	failureThrottled   = "throttled"
	failureForbidden   = "forbidden"
	failureInvalid     = "invalid"
	failureServer      = "server_error"
	failureOther       = "other"
)

// uidField is the field a UID precondition failure names: the API server
// rejects a patch whose metadata.uid differs from the stored pod's with 422
// because the field is immutable. A storage precondition failure is a 409
// whose message names the UID instead.
const uidField = "metadata.uid"

// goneReason returns why err shows that the patched pod no longer exists, or
// "" when it does not show that.
func goneReason(err error) string {
	switch {
	case apierrors.IsNotFound(err):
		return goneNotFound
	case apierrors.IsConflict(err) && strings.Contains(err.Error(), "UID"):
		return goneUIDMismatch
	case apierrors.IsInvalid(err) && namesField(err, uidField):
		return goneUIDMismatch
	default:
		return ""
	}
}

// namesField reports whether an API status error has a cause on field.
func namesField(err error, field string) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == field {
			return true
		}
	}
	return false
}

// failureClass groups a patch error that is not a gone pod.
func failureClass(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err):
		return failureTimeout
	case apierrors.IsTooManyRequests(err):
		return failureThrottled
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return failureForbidden
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsRequestEntityTooLargeError(err):
		return failureInvalid
	case apierrors.IsInternalError(err), apierrors.IsServiceUnavailable(err), apierrors.IsUnexpectedServerError(err):
		return failureServer
	case utilnet.IsConnectionRefused(err), utilnet.IsConnectionReset(err), errors.As(err, &netErr):
		return failureUnreachable
	default:
		return failureOther
	}
}

// retryable reports whether a failure of class may succeed when repeated
// unchanged. An invalid patch fails again until the state changes.
func retryable(class string) bool {
	return class != failureInvalid
}
