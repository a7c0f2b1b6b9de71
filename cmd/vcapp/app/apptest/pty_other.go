//go:build !linux

package apptest

import (
	"errors"
	"os"
)

// OpenPTY is implemented on Linux only.
func OpenPTY() (control, terminal *os.File, err error) {
	return nil, nil, errors.New("apptest.OpenPTY: only on Linux")
}
