package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/vcp-dev/vcp/e2e/framework"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vcp-e2e-kubecache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	framework.KubeCacheDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
