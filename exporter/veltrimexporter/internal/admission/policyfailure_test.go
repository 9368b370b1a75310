package admission

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"k8s.io/client-go/kubernetes/fake"
)

func loopingConfig() *Config {
	cfg := testConfig()
	cfg.PolicyFile = fixturePath("loop.lua")
	return cfg
}

func TestPolicyTimeoutAllowsWithWarning(t *testing.T) {
	s := newTestServer(t, loopingConfig(), warmPod("web-a"), warmPod("web-b"))

	resp := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 2, 1, "app=web"))

	assert.True(t, resp.Allowed)
	assert.Equal(t, []string{"veltrim: policy evaluation timed out after 20ms; scale-down allowed"}, resp.Warnings)
	assert.Equal(t, int64(1), decisionCount(t, s, outcomePolicyFailed))
}

func TestPolicyBreakerOpensAfterFailures(t *testing.T) {
	s := newTestServer(t, loopingConfig(), warmPod("web-a"), warmPod("web-b"))
	review := scaleReview("deployments", "web", 2, 1, "app=web")

	for i := range 5 {
		resp := admit(t, s.Server, validatePath, review)
		require.True(t, resp.Allowed, "request %d", i)
		require.Contains(t, resp.Warnings[0], "timed out", "request %d", i)
	}
	open := admit(t, s.Server, validatePath, review)

	assert.True(t, open.Allowed)
	assert.Equal(t, []string{"veltrim: circuit breaker open after 5 failed policy evaluations; scale-down allowed without a decision"}, open.Warnings)
	assert.Equal(t, int64(5), decisionCount(t, s, outcomePolicyFailed))
	assert.Equal(t, int64(1), decisionCount(t, s, outcomeBreakerOpen))
	assert.Equal(t, breakerOpen, breakerStateValue(t, s))
}

func TestPolicyBreakerProbesAfterCooldown(t *testing.T) {
	// The policy fails for "web" and decides for anything else, so a probe
	// can succeed while the breaker is open.
	policyFile := filepath.Join(t.TempDir(), "flaky.lua")
	require.NoError(t, os.WriteFile(policyFile, []byte(`
function decide(request)
  if request.name == "web" then error("policy bug") end
  return { removable = request.remove }
end`), 0o600))
	cfg := testConfig()
	cfg.PolicyFile = policyFile
	cfg.Breaker.Failures = 2
	s := newTestServer(t, cfg, warmPod("web-a"), warmPod("web-b"))
	failing := scaleReview("deployments", "web", 2, 1, "app=web")
	working := scaleReview("deployments", "api", 2, 1, "app=web")

	first := admit(t, s.Server, validatePath, failing)
	admit(t, s.Server, validatePath, failing)
	skipped := admit(t, s.Server, validatePath, working)
	s.now = func() time.Time { return testNow.Add(cfg.Breaker.Cooldown) }
	probe := admit(t, s.Server, validatePath, working)

	assert.Contains(t, first.Warnings[0], `policy evaluation failed`)
	assert.Contains(t, first.Warnings[0], `policy bug`)
	assert.Contains(t, skipped.Warnings[0], "circuit breaker open")
	assert.Empty(t, probe.Warnings)
	assert.Equal(t, breakerClosed, breakerStateValue(t, s))
}

func TestNewRejectsBrokenPolicies(t *testing.T) {
	dir := t.TempDir()
	write := func(name, source string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(source), 0o600))
		return path
	}
	tests := []struct {
		name   string
		policy string
		want   string
	}{
		{name: "missing file", policy: filepath.Join(dir, "absent.lua"), want: "failed to read policy_file"},
		{name: "syntax error", policy: write("syntax.lua", "function decide("), want: "failed to compile the policy"},
		{name: "no decide", policy: write("nodecide.lua", "x = 1"), want: "defines no global function decide"},
		{name: "fails sample", policy: write("sample.lua", `function decide(r) return { removable = "all" } end`), want: "failed on the built-in sample request"},
		{name: "loops on sample", policy: write("loop.lua", "function decide(r) while true do end end"), want: "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.PolicyFile = tt.policy

			_, err := New(cfg, fake.NewClientset(), "", componenttest.NewNopTelemetrySettings())

			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
