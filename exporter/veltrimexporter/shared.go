package veltrimexporter

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
)

// exporters holds one exporter per component ID, shared by every pipeline
// that names it: one Kubernetes client, one publishing queue and one
// admission server however many pipelines feed it.
var exporters = &sharedExporters{byID: map[component.ID]*sharedExporter{}}

type sharedExporters struct {
	mu   sync.Mutex
	byID map[component.ID]*sharedExporter
}

// sharedExporter is an exporter and the pipelines using it.
type sharedExporter struct {
	exporter *veltrimExporter
	// users counts the pipelines' exporters created and not yet shut down.
	users   int
	started bool
}

// exporterHandle is one pipeline's use of a shared exporter.
type exporterHandle struct {
	registry *sharedExporters
	id       component.ID
	shared   *sharedExporter
	exporter *veltrimExporter
	once     sync.Once
}

// acquireExporter returns a handle on the exporter of set.ID, creating it for
// the first pipeline.
func acquireExporter(set exporter.Settings, cfg *Config, opts factoryOptions) (*exporterHandle, error) {
	return exporters.acquire(set.ID, func() (*veltrimExporter, error) {
		return newExporter(set, cfg, opts)
	})
}

func (r *sharedExporters) acquire(id component.ID, create func() (*veltrimExporter, error)) (*exporterHandle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	shared, ok := r.byID[id]
	if !ok {
		exp, err := create()
		if err != nil {
			return nil, err
		}
		shared = &sharedExporter{exporter: exp}
		r.byID[id] = shared
	}
	shared.users++
	return &exporterHandle{registry: r, id: id, shared: shared, exporter: shared.exporter}, nil
}

// start starts the shared exporter on the first pipeline's Start.
func (h *exporterHandle) start(ctx context.Context, host component.Host) error {
	h.registry.mu.Lock()
	defer h.registry.mu.Unlock()

	if h.shared.started {
		return nil
	}
	if err := h.shared.exporter.start(ctx, host); err != nil {
		return err
	}
	h.shared.started = true
	return nil
}

// shutdown releases the pipeline's use; the last one shuts the exporter down.
func (h *exporterHandle) shutdown(ctx context.Context) error {
	var err error
	h.once.Do(func() {
		err = h.registry.release(ctx, h)
	})
	return err
}

func (r *sharedExporters) release(ctx context.Context, h *exporterHandle) error {
	r.mu.Lock()
	defer r.mu.Unlock()

	h.shared.users--
	if h.shared.users > 0 {
		return nil
	}
	if r.byID[h.id] == h.shared {
		delete(r.byID, h.id)
	}
	return h.shared.exporter.shutdown(ctx)
}
