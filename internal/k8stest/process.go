package k8stest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stopGracePeriod bounds how long a component may take to exit after SIGTERM
// before its process group is killed.
const stopGracePeriod = 5 * time.Second

// logTailLines is how many lines of a component's log an error or a failed
// test shows.
const logTailLines = 40

// process is one control-plane component running in its own process group.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File

	// done is closed when the process has exited and waitErr is set.
	done    chan struct{}
	waitErr error
}

// startProcess starts binary in a new process group with its output in
// dir/name.log. The kernel kills it with SIGKILL when the OS thread that
// started it exits, which for a Go program means the process, so a test binary
// that crashes or hits its -timeout leaves no component behind.
func startProcess(name, binary, dir string, args []string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("failed to create the %s log: %w", name, err)
	}

	cmd := exec.Command(binary, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = componentEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("failed to start %s: %w", name, err)
	}

	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	go p.wait()
	return p, nil
}

func (p *process) wait() {
	p.waitErr = p.cmd.Wait()
	p.logFile.Close()
	close(p.done)
}

// exited returns an error that describes the exit if the process has ended.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited early (%v); last lines of %s:\n%s", p.name, p.waitErr, p.logPath, p.logTail())
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, waits up to stopGracePeriod and
// then kills the group. Children of the component are stopped with it.
func (p *process) stop() {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)

	select {
	case <-p.done:
	case <-time.After(stopGracePeriod):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}

	// The leader may exit before the rest of its group, so the group is
	// killed in every case; ESRCH means nothing was left.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// logTail returns the last logTailLines lines of the component's log.
func (p *process) logTail() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(failed to read the log: %v)", err)
	}
	lines := strings.Split(string(bytes.TrimRight(data, "\n")), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return strings.Join(lines, "\n")
}

// componentEnv is the environment of the components: the caller's, with
// loopback exempted from any proxy so that kube-apiserver calls loopback
// webhooks and etcd directly.
func componentEnv() []string {
	env := os.Environ()
	noProxy := "127.0.0.1,::1,localhost"
	for _, key := range []string{"NO_PROXY", "no_proxy"} {
		if value := os.Getenv(key); value != "" {
			env = append(env, key+"="+value+","+noProxy)
		} else {
			env = append(env, key+"="+noProxy)
		}
	}
	return env
}
