package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// collectorStopTimeout bounds the collector's graceful shutdown after
// SIGTERM; then it is killed.
const collectorStopTimeout = 30 * time.Second

// Collector is a running otelcol-veltrim process.
type Collector struct {
	cmd     *exec.Cmd
	logPath string
	logFile *os.File

	// done is closed when the process has exited and waitErr is set.
	done    chan struct{}
	waitErr error
}

// StartCollector starts binary with configPath and env added to this
// process's environment, writing its output to logPath. The process runs in
// its own process group and gets SIGKILL if this program dies first.
func StartCollector(binary, configPath, logPath string, env map[string]string) (*Collector, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("failed to create the collector log: %w", err)
	}

	cmd := exec.Command(binary, "--config", configPath)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("failed to start %s: %w", binary, err)
	}

	c := &Collector{cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	return c, nil
}

// PID returns the collector's process ID.
func (c *Collector) PID() int {
	return c.cmd.Process.Pid
}

// LogPath returns the file with the collector's output.
func (c *Collector) LogPath() string {
	return c.logPath
}

// exited returns an error once the process has exited.
func (c *Collector) exited() error {
	select {
	case <-c.done:
		return fmt.Errorf("the collector exited (%v); last lines of %s:\n%s", c.waitErr, c.logPath, c.LogTail(30))
	default:
		return nil
	}
}

// WaitHealthy polls the health_check extension at healthURL until it returns
// 200, the collector exits or ctx ends.
func (c *Collector) WaitHealthy(ctx context.Context, healthURL string) error {
	return pollUntil(ctx, "the collector to report healthy", func(ctx context.Context) (bool, error) {
		if err := c.exited(); err != nil {
			return false, err
		}
		return httpStatus(ctx, loopbackClient(nil), healthURL) == http.StatusOK, nil
	})
}

// Stop sends SIGTERM, waits up to collectorStopTimeout for a graceful
// shutdown and then kills the process group. It returns the exit error of a
// shutdown that was not clean.
func (c *Collector) Stop() error {
	select {
	case <-c.done:
		return c.waitErr
	default:
	}

	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return c.waitErr
	case <-time.After(collectorStopTimeout):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
		return errors.New("the collector did not stop within " + collectorStopTimeout.String() + " of SIGTERM and was killed")
	}
}

// LogTail returns the last n lines of the collector's output.
func (c *Collector) LogTail(n int) string {
	data, err := os.ReadFile(c.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
