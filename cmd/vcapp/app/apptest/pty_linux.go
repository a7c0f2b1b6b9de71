package apptest

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// OpenPTY opens a pseudo-terminal. terminal is what a program under test uses as its
// standard input or output (a terminal to it); control is the other side, where the
// test types and reads what the program wrote. Close both.
func OpenPTY() (control, terminal *os.File, err error) {
	control, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	if err := ioctl(control, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); err != nil {
		control.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	var n uint32
	if err := ioctl(control, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); err != nil {
		control.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	terminal, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		control.Close()
		return nil, nil, err
	}
	return control, terminal, nil
}

// ioctl runs an ioctl on f without f.Fd(), which would put f in blocking mode (and
// make read deadlines useless).
func ioctl(f *os.File, req, arg uintptr) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
