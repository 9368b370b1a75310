package admission

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/veltrix/veltrim/internal/policy"
)

// Server is the admission endpoint: an HTTPS server that decides scale-down
// requests from the pods in an informer cache.
type Server struct {
	cfg    Config
	set    component.TelemetrySettings
	logger *zap.Logger

	engine     *policy.Engine
	policyName string
	breaker    *breaker
	metrics    *metrics
	keys       annotationKeys

	// now is the clock decisions are made with; tests replace it.
	now func() time.Time

	// informers holds the pod informer; pods lists from its cache.
	informers informers.SharedInformerFactory
	pods      corelisters.PodLister
	// synced is closed once the pod cache has synced.
	synced chan struct{}
	// stop stops the informer and the goroutine waiting for its sync.
	stop     chan struct{}
	syncDone chan struct{}

	httpServer *http.Server
	listener   net.Listener
	serveDone  chan struct{}

	shutdownOnce sync.Once
	shutdownErr  error
}

// New compiles the policy, default or from cfg.PolicyFile, checks it
// against the built-in sample request and prepares the pod informer.
// annotationPrefix "" means the default prefix. Nothing runs before Start.
func New(cfg *Config, client kubernetes.Interface, annotationPrefix string, set component.TelemetrySettings) (*Server, error) {
	name, source, err := readPolicy(cfg.PolicyFile)
	if err != nil {
		return nil, err
	}
	engine, err := policy.New(name, source, cfg.settings(), cfg.PolicyTimeout)
	if err != nil {
		return nil, fmt.Errorf("admission policy: %w", err)
	}
	m, err := newMetrics(set.MeterProvider)
	if err != nil {
		engine.Close()
		return nil, fmt.Errorf("failed to create the admission metrics: %w", err)
	}

	s := &Server{
		cfg:        *cfg,
		set:        set,
		logger:     set.Logger,
		engine:     engine,
		policyName: name,
		metrics:    m,
		keys:       newAnnotationKeys(annotationPrefix),
		now:        time.Now,
		synced:     make(chan struct{}),
		stop:       make(chan struct{}),
	}
	s.breaker = &breaker{
		failures: cfg.Breaker.Failures,
		cooldown: cfg.Breaker.Cooldown,
		now:      func() time.Time { return s.now() },
		onChange: s.logBreakerChange,
	}
	m.recordBreakerState(breakerClosed)

	s.informers = informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(podTrimmer(s.keys)))
	s.pods = s.informers.Core().V1().Pods().Lister()
	return s, nil
}

// readPolicy returns the policy's name and source: the file's, or the
// embedded default's when path is empty.
func readPolicy(path string) (name, source string, err error) {
	if path == "" {
		return policy.DefaultName, policy.DefaultSource, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("failed to read policy_file: %w", err)
	}
	return path, string(data), nil
}

// Start starts the pod informer and the HTTPS server. It returns once the
// listener is bound, without waiting for the pod cache: until it has synced,
// scale-downs are allowed with a warning and /healthz responds 503.
func (s *Server) Start(ctx context.Context, host component.Host) error {
	listener, err := s.cfg.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("failed to listen on %q: %w", s.cfg.NetAddr.Endpoint, err)
	}
	httpServer, err := s.cfg.ToServer(ctx, host.GetExtensions(), s.set, s.routes())
	if err != nil {
		listener.Close()
		return fmt.Errorf("failed to create the admission server: %w", err)
	}
	s.listener = listener
	s.httpServer = httpServer

	s.startInformer()

	s.serveDone = make(chan struct{})
	go s.serve(host)

	s.logger.Info("Admission endpoint started",
		zap.String("endpoint", listener.Addr().String()),
		zap.String("mode", s.cfg.Mode),
		zap.String("webhook_path", webhookPath(s.cfg.Mode)),
		zap.String("policy", s.policyName),
		zap.Stringer("policy_timeout", s.cfg.PolicyTimeout))
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+validatePath, s.admissionHandler(policy.ModeDeny))
	mux.Handle("POST "+mutatePath, s.admissionHandler(policy.ModeClamp))
	mux.HandleFunc("GET "+healthzPath, s.serveHealthz)
	return mux
}

// webhookPath is the path a webhook configuration of the given mode calls.
func webhookPath(mode string) string {
	if mode == policy.ModeClamp {
		return mutatePath
	}
	return validatePath
}

func (s *Server) serve(host component.Host) {
	defer close(s.serveDone)
	if err := s.httpServer.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.logger.Error("Admission server stopped", zap.Error(err))
		componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
	}
}

func (s *Server) startInformer() {
	informer := s.informers.Core().V1().Pods().Informer()
	s.informers.Start(s.stop)

	s.syncDone = make(chan struct{})
	go func() {
		defer close(s.syncDone)
		if !cache.WaitForCacheSync(s.stop, informer.HasSynced) {
			return
		}
		close(s.synced)
		s.logger.Info("Admission pod cache synced")
	}()
}

func (s *Server) podsSynced() bool {
	select {
	case <-s.synced:
		return true
	default:
		return false
	}
}

// Shutdown stops the HTTPS server, waiting for requests in flight until ctx
// ends, then stops the informer. It is safe without Start and when called
// more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		if s.httpServer != nil {
			s.shutdownErr = s.httpServer.Shutdown(ctx)
			<-s.serveDone
		}

		close(s.stop)
		s.informers.Shutdown()
		if s.syncDone != nil {
			<-s.syncDone
		}
		s.engine.Close()
		s.logger.Info("Admission endpoint stopped")
	})
	return s.shutdownErr
}

func (s *Server) logBreakerChange(from, to breakerState, consecutive int) {
	s.metrics.recordBreakerState(to)
	fields := []zap.Field{
		zap.String("from", from.String()),
		zap.String("to", to.String()),
		zap.Int("consecutive_failures", consecutive),
	}
	switch to {
	case breakerOpen:
		s.logger.Warn("Policy circuit breaker opened; scale-downs are allowed without a decision",
			append(fields, zap.Stringer("cooldown", s.cfg.Breaker.Cooldown))...)
	case breakerHalfOpen:
		s.logger.Info("Policy circuit breaker half-open; the next request probes the policy", fields...)
	default:
		s.logger.Info("Policy circuit breaker closed", fields...)
	}
}
