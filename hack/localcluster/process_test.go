package localcluster

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProcessStopOnlySignalsTheStartedProcess(t *testing.T) {
	sleep := "/bin/sleep"
	if _, err := os.Stat(sleep); err != nil {
		t.Skip("no /bin/sleep")
	}
	dir := t.TempDir()
	p, err := startProcess("sleeper", sleep, []string{"600"}, filepath.Join(dir, "sleeper.log"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background(), time.Second) })
	if !p.Alive() {
		t.Fatal("process not alive right after start")
	}

	// A record with the same PID but another start time names a different process (the
	// PID was reused): stopping it must not touch the running one.
	impostor := &Process{Name: "impostor", PID: p.PID, StartTicks: p.StartTicks + 1}
	if impostor.Alive() {
		t.Fatal("a record with a different start time counts as alive")
	}
	if err := impostor.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if !p.Alive() {
		t.Fatal("stopping a stale record killed the real process")
	}

	// A record as Load reads it from the state file (no exec handle) stops the process.
	loaded := &Process{Name: p.Name, PID: p.PID, StartTicks: p.StartTicks}
	if err := loaded.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("process still running after Stop")
	}
	if p.Alive() || loaded.Alive() {
		t.Fatal("Alive() after Stop")
	}
}

func TestProcessStopEscalatesToSIGKILL(t *testing.T) {
	sh := "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		t.Skip("no /bin/sh")
	}
	// The shell ignores SIGTERM; Stop must fall back to SIGKILL after the grace period.
	p, err := startProcess("stubborn", sh, []string{"-c", "trap '' TERM; while :; do sleep 0.1; done"}, filepath.Join(t.TempDir(), "log"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the shell install its trap before the signal
	if err := p.Stop(context.Background(), 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if p.Alive() {
		t.Fatal("process survived Stop")
	}
}

func TestStartProcessMissingBinary(t *testing.T) {
	_, err := startProcess("etcd", "/nonexistent/etcd", nil, filepath.Join(t.TempDir(), "log"), nil, false)
	if err == nil {
		t.Fatal("want an error for a missing binary")
	}
	if want := "run `make tools`"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not tell the user to %s", err, want)
	}
}

// TestAttachedProcessesDieWithTheirParent kills a parent with SIGKILL, so that no cleanup
// of its runs, and checks that the component it started attached dies too. This is what
// keeps an interrupted or timed-out test from leaving a cluster behind.
func TestAttachedProcessesDieWithTheirParent(t *testing.T) {
	if os.Getenv("VCP_HELPER_START_SLEEP") == "1" {
		// The helper is SIGKILLed, so its own t.TempDir would never be removed: the parent's is used.
		p, err := startProcess("sleeper", "/bin/sleep", []string{"600"}, filepath.Join(os.Getenv("VCP_HELPER_DIR"), "log"), nil, false)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("CHILD %d %d\n", p.PID, p.StartTicks)
		select {} // wait to be killed
	}
	if _, err := os.Stat("/bin/sleep"); err != nil {
		t.Skip("no /bin/sleep")
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestAttachedProcessesDieWithTheirParent$")
	helper.Env = append(os.Environ(), "VCP_HELPER_START_SLEEP=1", "VCP_HELPER_DIR="+t.TempDir())
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	var child Process
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		if _, err := fmt.Sscanf(scanner.Text(), "CHILD %d %d", &child.PID, &child.StartTicks); err == nil {
			break
		}
	}
	if child.PID == 0 {
		t.Fatal("helper did not report its child")
	}
	if !child.Alive() {
		t.Fatal("child not running before the parent is killed")
	}
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for child.Alive() {
		if time.Now().After(deadline) {
			_ = syscall.Kill(child.PID, syscall.SIGKILL)
			t.Fatalf("child pid %d outlived its SIGKILLed parent", child.PID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
