// Command vcapp is the application team's CLI for vcp: it turns an application (its
// components and traits), the platform's profile and per-environment overlays into the
// Kubernetes objects that run it (`vcapp init`, `vcapp render`), and delivers them to
// clusters (`vcapp plan|deploy|status|history|rollback|delete|logs`).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/vcp-dev/vcp/cmd/vcapp/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.NewCommand(os.Stdout, os.Stderr).ExecuteContext(ctx); err != nil {
		if !app.Silent(err) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		stop()
		os.Exit(app.ExitCode(err))
	}
}
