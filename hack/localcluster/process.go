package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is one component the local cluster started. PID and StartTicks together name
// it exactly, so a stop never signals an unrelated process that reused the PID.
type Process struct {
	Name       string   `json:"name"`
	PID        int      `json:"pid"`
	StartTicks uint64   `json:"startTicks"`
	Binary     string   `json:"binary"`
	Args       []string `json:"args"`
	Log        string   `json:"log"`
	// Ports the process listens on, checked to be free again after a stop.
	Ports []int `json:"ports"`
	// ReadyIn is how long the process took from exec until it answered its readiness probe.
	ReadyIn time.Duration `json:"readyIn,omitempty"`

	startedAt time.Time

	// exited is closed when a process this caller started has been reaped.
	exited chan struct{}
	// waitErr is the exit status once exited is closed.
	waitErr error
}

// startProcess runs binary with args, logging to logPath. Detached processes get their own
// session so that they survive the caller; attached ones die with it (PR_SET_PDEATHSIG).
func startProcess(name, binary string, args []string, logPath string, ports []int, detach bool) (*Process, error) {
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("%s: binary %s not found (run `make tools`): %w", name, binary, err)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "---- %s starting %s %s\n", time.Now().Format(time.RFC3339), binary, strings.Join(args, " "))

	cmd := exec.Command(binary, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = os.Environ()
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	startedAt := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, PID: cmd.Process.Pid, Binary: binary, Args: args, Log: logPath, Ports: ports, exited: make(chan struct{}), startedAt: startedAt}
	p.StartTicks, err = procStartTicks(p.PID)
	if err != nil {
		_ = cmd.Process.Kill()
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err != nil {
		<-p.exited
		return nil, fmt.Errorf("read start time of %s (pid %d): %w", name, p.PID, err)
	}
	return p, nil
}

// Alive reports whether the process is still the one that was started and has not exited.
func (p *Process) Alive() bool {
	if p.exited != nil {
		select {
		case <-p.exited:
			return false
		default:
		}
	}
	ticks, err := procStartTicks(p.PID)
	if err != nil || ticks != p.StartTicks {
		return false
	}
	state, err := procState(p.PID)
	return err == nil && state != 'Z' && state != 'X'
}

// exitedEarly returns a non-nil error once a process this caller started has exited.
func (p *Process) exitedEarly() error {
	if p.exited == nil {
		if !p.Alive() {
			return fmt.Errorf("%s (pid %d) is not running", p.Name, p.PID)
		}
		return nil
	}
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited: %v", p.Name, p.waitErr)
	default:
		return nil
	}
}

// Stop sends SIGTERM, waits up to grace, then SIGKILLs the process group. It only signals
// the process if it is still the one that was started.
func (p *Process) Stop(ctx context.Context, grace time.Duration) error {
	if !p.Alive() {
		return nil
	}
	// The process leads its own group (Setsid or Setpgid), so -PID reaches its children too.
	if err := syscall.Kill(-p.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.Name, p.PID, err)
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for p.Alive() {
		select {
		case <-deadline.C:
			if err := syscall.Kill(-p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.PID, err)
			}
			deadline.Reset(grace)
		case <-ctx.Done():
			return fmt.Errorf("stop %s (pid %d): %w", p.Name, p.PID, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// LogTail returns the last n lines of the process's log, for error messages.
func (p *Process) LogTail(n int) string {
	return tailFile(p.Log, n)
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// procStat returns the fields of /proc/<pid>/stat after the command name.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, err
	}
	f, err := parseStat(b)
	if err != nil {
		return nil, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return f, nil
}

// parseStat splits a /proc/<pid>/stat line into the fields after the command name, which
// is in parentheses and may itself hold spaces and parentheses.
func parseStat(b []byte) ([]string, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || bytes.IndexByte(b[:i], '(') < 0 || i+2 > len(b) {
		return nil, errors.New("malformed stat line")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return nil, fmt.Errorf("stat line has %d fields after the command, want at least 20", len(f))
	}
	return f, nil
}

// procStartTicks is field 22 of /proc/<pid>/stat: start time in clock ticks after boot.
func procStartTicks(pid int) (uint64, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// procState is field 3 of /proc/<pid>/stat.
func procState(pid int) (byte, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	if len(f[0]) != 1 {
		return 0, fmt.Errorf("malformed state in /proc/%d/stat", pid)
	}
	return f[0][0], nil
}
