package k8stest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

// readyPollInterval is how often a component's readiness is checked while it starts.
const readyPollInterval = 100 * time.Millisecond

// waitReady calls check until it returns nil, the process exits or ctx ends.
// The error names the last failed check and shows the end of the log.
func waitReady(ctx context.Context, p *process, check func(context.Context) error) error {
	ticker := time.NewTicker(readyPollInterval)
	defer ticker.Stop()

	lastErr := fmt.Errorf("%s was not checked yet", p.name)
	for {
		if err := p.exited(); err != nil {
			return err
		}
		if lastErr = check(ctx); lastErr == nil {
			return nil
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last check: %v); last lines of %s:\n%s", p.name, ctx.Err(), lastErr, p.logPath, p.logTail())
		case <-p.done:
		case <-ticker.C:
		}
	}
}

// loopbackHTTPClient returns a client for readiness checks. It ignores the
// proxy environment variables and keeps no idle connections.
func loopbackHTTPClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		TLSClientConfig:   tlsConfig,
	}}
}

// httpOKCheck returns a check that GETs url and expects 200.
func httpOKCheck(client *http.Client, url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()

		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s returned %d: %s", url, resp.StatusCode, body)
		}
		return nil
	}
}
