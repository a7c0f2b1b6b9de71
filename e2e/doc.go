// Package e2e holds vcp's end-to-end tests: each starts a real local super cluster
// (hack/localcluster) from the binaries `make tools` builds and drives it as users would.
package e2e
