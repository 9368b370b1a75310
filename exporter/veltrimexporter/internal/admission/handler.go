package admission

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"go.uber.org/zap"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Paths the server serves.
const (
	validatePath = "/validate"
	mutatePath   = "/mutate"
	healthzPath  = "/healthz"
)

const jsonContentType = "application/json"

// admissionHandler serves AdmissionReviews for one mode.
func (s *Server) admissionHandler(mode string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveAdmission(w, r, mode)
	})
}

func (s *Server) serveAdmission(w http.ResponseWriter, r *http.Request, mode string) {
	start := time.Now()
	var uid types.UID
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.allowAfterPanic(w, uid, v)
			s.metrics.recordDecision(outcomePanic, time.Since(start))
		}
	}()

	review, status, err := s.readReview(w, r)
	if err != nil {
		s.logger.Debug("Rejected an admission request", zap.String("remote", r.RemoteAddr), zap.Int("status", status), zap.Error(err))
		http.Error(w, err.Error(), status)
		s.metrics.recordDecision(outcomeInvalid, time.Since(start))
		return
	}
	uid = review.Request.UID

	resp, result := s.decide(r.Context(), review.Request, mode)
	resp.UID = uid
	s.writeReview(w, resp)
	s.metrics.recordDecision(result, time.Since(start))
}

// readReview checks the content type, reads the body up to the size limit
// and decodes it. On error it returns the HTTP status to respond with.
func (s *Server) readReview(w http.ResponseWriter, r *http.Request) (*admissionv1.AdmissionReview, int, error) {
	contentType := r.Header.Get("Content-Type")
	if mediaType, _, err := mime.ParseMediaType(contentType); err != nil || mediaType != jsonContentType {
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported Content-Type %q, expected %q", contentType, jsonContentType)
	}

	limit := s.cfg.maxRequestBodySize()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusBadRequest, fmt.Errorf("request body exceeds %d bytes", tooLarge.Limit)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("failed to read the request body: %w", err)
	}

	review, err := decodeReview(body)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	return review, http.StatusOK, nil
}

func (s *Server) writeReview(w http.ResponseWriter, resp *admissionv1.AdmissionResponse) {
	body, err := encodeReview(resp)
	if err != nil {
		s.logger.Error("Failed to encode an AdmissionReview response", zap.String("uid", string(resp.UID)), zap.Error(err))
		http.Error(w, "failed to encode the response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	if _, err := w.Write(body); err != nil {
		s.logger.Debug("Failed to write an AdmissionReview response", zap.String("uid", string(resp.UID)), zap.Error(err))
	}
}

// allowAfterPanic allows the request, because a scale-down must never be
// blocked by a bug in this server. uid is empty when the panic came before
// the review was decoded. The kube-apiserver then treats the response as a
// failed call and applies the webhook's failurePolicy.
func (s *Server) allowAfterPanic(w http.ResponseWriter, uid types.UID, recovered any) {
	s.logger.Error("Recovered from a panic in the admission handler; allowing the request",
		zap.String("uid", string(uid)),
		zap.Any("panic", recovered),
		zap.StackSkip("stack", 2))

	resp := allowWithWarning(warningPrefix + "internal error; request allowed")
	resp.UID = uid
	s.writeReview(w, resp)
}

// serveHealthz responds 200 once the pod cache has synced, so a readiness
// probe keeps the webhook Service away from a server that cannot decide yet.
func (s *Server) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.podsSynced() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "pod cache not synced\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}
