package localcluster

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

// vcpStages are vcp's own KWOK stages: pod-ready (upstream's, leaving the failing pods
// below alone), and pods that fail the way a kubelet reports it, selected by their
// image's tag: broken-pull (ImagePullBackOff) and crashloop (CrashLoopBackOff). Tests
// of failure handling (the delivery engine's fail-fast) deploy such images.
//
//go:embed stages/*.yaml
var vcpStages embed.FS

// upstreamStages are the upstream KWOK stage files `make tools` copies from the kwok
// module that are used as they are.
var upstreamStages = []string{"node-initialize.yaml", "node-heartbeat-with-lease.yaml", "pod-complete.yaml", "pod-delete.yaml"}

// kwokStageFiles lists KWOK's stage files: the upstream ones in dir, and vcp's own
// (vcpStages), written into writeDir.
func kwokStageFiles(dir, writeDir string) ([]string, error) {
	files := make([]string, 0, len(upstreamStages)+3)
	for _, w := range upstreamStages {
		path := filepath.Join(dir, w)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("KWOK stage file %s is missing (run `make tools`): %w", path, err)
		}
		files = append(files, path)
	}
	entries, err := vcpStages.ReadDir("stages")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(writeDir, 0o755); err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := vcpStages.ReadFile("stages/" + e.Name())
		if err != nil {
			return nil, err
		}
		path := filepath.Join(writeDir, e.Name())
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	return files, nil
}
