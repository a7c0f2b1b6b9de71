package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/vcp-dev/vcp/bench/internal/cpu"
	"github.com/vcp-dev/vcp/hack/localcluster"
)

type standaloneResult struct {
	ready      time.Duration
	rss        uint64
	goroutines int
	etcdConns  int
	// idleCPU is the API server's CPU use while idle, in cores.
	idleCPU float64
}

// leanFlags configure the standalone kube-apiserver the way the tenant servers are
// configured, so the comparison is like for like.
var leanFlags = []string{
	"--watch-cache=false",
	"--enable-priority-and-fairness=false",
	"--runtime-config=internal.apiserver.k8s.io/v1alpha1=false,storagemigration.k8s.io/v1beta1=false",
}

// measureStandalone starts etcd and a lean kube-apiserver built by `make tools` as
// separate processes and measures the API server's start time, idle RSS, goroutines and
// etcd connections. It returns the cluster, whose etcd the caller may go on using; the
// caller stops it.
func measureStandalone(ctx context.Context, binDir, dir string, settle time.Duration) (*localcluster.Cluster, standaloneResult, error) {
	c, err := localcluster.Start(ctx, localcluster.Config{
		Dir: dir + "/standalone", BinDir: binDir, ControlPlaneOnly: true,
		ExtraAPIServerFlags: leanFlags,
	})
	if err != nil {
		return nil, standaloneResult{}, err
	}
	res, err := measureAPIServer(c, settle)
	return c, res, err
}

func measureAPIServer(c *localcluster.Cluster, settle time.Duration) (standaloneResult, error) {
	var res standaloneResult
	var pid int
	for _, p := range c.Processes {
		if p.Name == "kube-apiserver" {
			res.ready, pid = p.ReadyIn, p.PID
		}
	}
	// As for the host: half of settle to finish starting, CPU measured over the rest.
	time.Sleep(settle / 2)
	start, cpu0 := time.Now(), cpuTime(pid)
	time.Sleep(settle - settle/2)
	res.idleCPU = (cpuTime(pid) - cpu0).Seconds() / time.Since(start).Seconds()
	res.rss = rssOf(pid)
	res.etcdConns = etcdConnections(portOf(c.EtcdURL))
	cfg, err := c.RESTConfig()
	if err != nil {
		return res, err
	}
	res.goroutines, err = goroutinesOf(cfg)
	return res, err
}

func goroutinesOf(cfg *rest.Config) (int, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return 0, err
	}
	resp, err := client.Get(cfg.Host + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("no go_goroutines in /metrics")
}

// rssOf reads VmRSS of a process in bytes.
func rssOf(pid int) uint64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// etcdConnections counts established TCP connections to port on this machine.
func etcdConnections(port int) int {
	n := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "01" { // 01 = ESTABLISHED
				continue
			}
			if remotePort(f[2]) == port && remotePort(f[1]) != port {
				n++
			}
		}
	}
	return n
}

func remotePort(hexAddr string) int {
	i := strings.LastIndexByte(hexAddr, ':')
	if i < 0 {
		return -1
	}
	p, err := strconv.ParseUint(hexAddr[i+1:], 16, 32)
	if err != nil {
		return -1
	}
	return int(p)
}

func portOf(endpoint string) int {
	u, err := url.Parse(endpoint)
	if err != nil {
		return -1
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

// cpuTime is the CPU time a process has used so far; 0 once it is gone.
func cpuTime(pid int) time.Duration {
	d, _ := cpu.Of(pid)
	return d
}
