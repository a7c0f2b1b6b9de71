package localcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// BinDirEnv overrides where the tools built by `make tools` are found.
const BinDirEnv = "VCP_BIN_DIR"

// FindBinDir returns $VCP_BIN_DIR, or else the bin/ directory of the vcp checkout that
// contains the working directory, so that tests and vcctl work from any subdirectory.
func FindBinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return checkBinDir(dir)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(mod, []byte("module github.com/vcp-dev/vcp\n")) {
			return checkBinDir(filepath.Join(dir, "bin"))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the vcp checkout and $" + BinDirEnv + " is not set: cannot find the tools built by `make tools`")
		}
		dir = parent
	}
}

func checkBinDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(abs, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("%s has no kube-apiserver: run `make tools` first", abs)
	}
	return abs, nil
}
