package kubeapiserver

// SharedEtcdClients is how many distinct etcd clients the tenants' storage shares; for
// tests and metrics.
func SharedEtcdClients() int { return etcdClients.size() }
