// Package netutil holds small networking helpers shared by vcp's components and tests.
package netutil

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports are taken below the kernel's ephemeral range (32768 and up by default): a port
// the kernel hands out for ":0" may be given to an outgoing connection (the API server
// alone opens dozens to etcd) between our check and the component's bind.
const portRangeLow, portRangeHigh = 10000, 32000

// FreePorts finds n distinct ports on 127.0.0.1 that nothing listens on.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	span := portRangeHigh - portRangeLow
	next := portRangeLow + rand.IntN(span)
	for tries := 0; len(ports) < n; tries++ {
		if tries == span {
			return nil, fmt.Errorf("no %d free ports between %d and %d on 127.0.0.1", n, portRangeLow, portRangeHigh)
		}
		port := portRangeLow + (next-portRangeLow+tries)%span
		// Holding the listener until all are found keeps the n ports distinct.
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		listeners = append(listeners, l)
		ports = append(ports, port)
	}
	return ports, nil
}
