package main

import (
	"os"

	"github.com/vcp-dev/vcp/bench/internal/cpu"
)

// cpu samples the CPU of every process of the local super cluster and the platform, and
// of this harness (the pods' client): P3's wall-clock ratio is bounded below by the ratio
// of CPU work its two paths need on the machine's shared cores.
func (b *bench) cpu() cpu.Sample {
	pids := map[string][]int{"bench client": {os.Getpid()}}
	for _, p := range b.cluster.Processes {
		pids[p.Name] = append(pids[p.Name], p.PID)
	}
	return cpu.Take(pids)
}
