// Command veltrim-demo runs veltrim end to end on this machine and prints
// what happened. It starts a local Kubernetes control plane with a
// Deployment of four Ready pods and the otelcol-veltrim collector with its
// admission webhook registered. Then veltrim-loadgen sends OTLP spans with
// duplicates, a span storm and cache misses on two pods. The demo shows the
// pod annotations the collector published, and scales the Deployment down
// with kubectl, first too far and then within what veltrim allows.
//
// `make run` builds the binaries it needs and runs it. It stops everything
// it started before it exits, also on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/veltrix/veltrim/e2e"
)

// runTimeout bounds the whole demo. It takes well under a minute on an idle
// machine, so the bound only stops a demo that hangs.
const runTimeout = 10 * time.Minute

func main() {
	keep := flag.Bool("keep", false, "keep the work folder with the component logs, the certificates and the exported spans")
	config := flag.String("config", e2e.DefaultConfig, "collector configuration, relative to the repository root")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()

	if err := run(ctx, *config, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "veltrim-demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, config string, keep bool) (err error) {
	binaries, err := e2e.FindBinaries()
	if err != nil {
		return err
	}
	configPath, err := e2e.RepositoryPath(config)
	if err != nil {
		return err
	}
	opts := e2e.Options{Binaries: binaries, ConfigPath: configPath, Progress: progress}
	if keep {
		if opts.WorkDir, err = os.MkdirTemp("", "veltrim-demo-"); err != nil {
			return err
		}
		defer fmt.Printf("\nlogs, certificates and exported spans kept in %s\n", opts.WorkDir)
	}

	started := time.Now()
	s, err := e2e.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		progress("stopping the collector and the control plane")
		err = errors.Join(err, s.Stop())
	}()
	r := &report{scenario: s, started: started}
	if err := r.collect(ctx); err != nil {
		return err
	}
	r.print(os.Stdout)
	return r.verdict()
}

func progress(format string, args ...any) {
	fmt.Printf("  ... "+format+"\n", args...)
}
