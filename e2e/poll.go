package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// pollInterval is how often a condition is checked again.
const pollInterval = 100 * time.Millisecond

// DefaultWaitTimeout bounds each wait of the scenario when the context has
// no earlier deadline. Every wait ends as soon as its condition holds, so the
// bound only matters on a machine busy compiling, or when something is broken.
const DefaultWaitTimeout = 2 * time.Minute

// pollUntil calls check every pollInterval until it returns true or an
// error, or until ctx ends or DefaultWaitTimeout passes. The error names
// what was awaited and, when check failed, the check's error.
func pollUntil(ctx context.Context, what string, check func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultWaitTimeout)
	defer cancel()

	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		done, err := check(ctx)
		if ctx.Err() != nil {
			// A check cut short by the deadline or an interrupt fails for
			// that reason, not for the error it ran into.
			return fmt.Errorf("stopped waiting for %s: %w", what, ctx.Err())
		}
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for %s: %w", what, ctx.Err())
		case <-ticker.C:
		}
	}
}

// loopbackClient returns an HTTP client that never uses a proxy and keeps
// no idle connections, for requests to the servers the scenario starts.
func loopbackClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
			TLSClientConfig:   tlsConfig,
		},
	}
}

// httpStatus GETs url and returns the status code, or 0 when the request fails.
func httpStatus(ctx context.Context, client *http.Client, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
