module k8s.io/utils

go 1.23

require (
	github.com/davecgh/go-spew v1.1.1
	k8s.io/klog/v2 v2.80.1
)

require github.com/go-logr/logr v1.2.0 // indirect
