package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

func (o *tenantOptions) newKubeconfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubeconfig NAME",
		Short: "Print, save or merge a tenant's admin kubeconfig",
		Long: "kubeconfig prints the tenant's admin kubeconfig, writes it to --file (mode 0600), or with\n" +
			"--merge adds it to your kubeconfig (the first path of $KUBECONFIG, else ~/.kube/config) as\n" +
			"context, cluster and user vcp-NAME, leaving other entries and the current context alone.",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeNames,
		RunE:              func(cmd *cobra.Command, args []string) error { return o.kubeconfigCmd(cmd, args[0]) },
	}
	cmd.Flags().StringVarP(&o.file, "file", "f", "", "write the kubeconfig to this file (mode 0600) instead of printing it")
	cmd.Flags().BoolVar(&o.merge, "merge", false, "merge the kubeconfig into yours as context vcp-NAME")
	cmd.MarkFlagsMutuallyExclusive("file", "merge")
	return cmd
}

func (o *tenantOptions) kubeconfigCmd(cmd *cobra.Command, name string) error {
	c, err := o.client(cmd)
	if err != nil {
		return err
	}
	data, err := o.readKubeconfig(cmd, c, name)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	switch {
	case o.merge:
		return mergeIntoUserKubeconfig(cmd, name, data)
	case o.file != "":
		if err := writePrivateFile(o.file, data); err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		fmt.Fprintf(out, "Wrote the kubeconfig of tenant %s/%s to %s.\n", o.namespace, name, o.file)
		return nil
	default:
		_, err := out.Write(data)
		return err
	}
}

// readKubeconfig reads the tenant's admin kubeconfig from the Secret its status names.
func (o *tenantOptions) readKubeconfig(cmd *cobra.Command, c client.Client, name string) ([]byte, error) {
	vc, err := o.getTenant(cmd.Context(), c, name)
	if err != nil {
		return nil, err
	}
	ref := vc.Status.KubeconfigSecretRef
	if ref == nil || ref.Name == "" {
		return nil, fmt.Errorf("tenant %s has no kubeconfig yet (phase %s): wait until it is Ready", name, phaseOf(vc))
	}
	key := ref.Key
	if key == "" {
		key = tenancyv1alpha1.KubeconfigSecretKey
	}
	secret := &corev1.Secret{}
	if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: vc.Namespace, Name: ref.Name}, secret); err != nil {
		return nil, fmt.Errorf("read the kubeconfig Secret of tenant %s: %w", name, err)
	}
	data, ok := secret.Data[key]
	if !ok || len(data) == 0 {
		return nil, fmt.Errorf("tenant %s: Secret %s/%s has no key %q", name, vc.Namespace, ref.Name, key)
	}
	return data, nil
}

// writePrivateFile writes data to path readable only by the user, also when the file
// exists with wider permissions.
func writePrivateFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// userKubeconfigPath is the kubeconfig --merge writes: the first path of $KUBECONFIG,
// else ~/.kube/config.
func userKubeconfigPath() string {
	for _, p := range filepath.SplitList(os.Getenv(clientcmd.RecommendedConfigPathEnvVar)) {
		if p != "" {
			return p
		}
	}
	return clientcmd.RecommendedHomeFile
}

// mergeIntoUserKubeconfig merges the tenant kubeconfig data into the user's kubeconfig.
func mergeIntoUserKubeconfig(cmd *cobra.Command, name string, data []byte) error {
	tenant, err := clientcmd.Load(data)
	if err != nil {
		return fmt.Errorf("the kubeconfig of tenant %s is not valid: %w", name, err)
	}
	path := userKubeconfigPath()
	existing, err := clientcmd.LoadFromFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		existing = clientcmdapi.NewConfig()
	case err != nil:
		return fmt.Errorf("read your kubeconfig: %w", err)
	}
	merged, err := mergeKubeconfig(*existing, *tenant, name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := clientcmd.WriteToFile(merged, path); err != nil {
		return fmt.Errorf("write your kubeconfig: %w", err)
	}
	entry := mergedName(name)
	fmt.Fprintf(cmd.OutOrStdout(), "Merged context, cluster and user %q (server %s) into %s.\nThe current context is unchanged; use it with: kubectl --context %s get namespaces\n",
		entry, merged.Clusters[entry].Server, path, entry)
	return nil
}

// mergedName is the name of a tenant's context, cluster and user in a merged kubeconfig.
func mergedName(tenant string) string { return "vcp-" + tenant }

// mergeKubeconfig returns existing with the tenant kubeconfig's current context (or its
// only context) added as context, cluster and user vcp-NAME, replacing an earlier merge.
// Other entries and the current context are kept; neither argument is modified.
func mergeKubeconfig(existing, tenant clientcmdapi.Config, name string) (clientcmdapi.Config, error) {
	ctxName := tenant.CurrentContext
	if ctxName == "" && len(tenant.Contexts) == 1 {
		for n := range tenant.Contexts {
			ctxName = n
		}
	}
	ctx, ok := tenant.Contexts[ctxName]
	if !ok || ctx == nil {
		return clientcmdapi.Config{}, fmt.Errorf("the kubeconfig of tenant %s has no current context", name)
	}
	cluster, ok := tenant.Clusters[ctx.Cluster]
	if !ok || cluster == nil {
		return clientcmdapi.Config{}, fmt.Errorf("the kubeconfig of tenant %s: context %q names cluster %q, which it does not define", name, ctxName, ctx.Cluster)
	}
	user, ok := tenant.AuthInfos[ctx.AuthInfo]
	if !ok || user == nil {
		return clientcmdapi.Config{}, fmt.Errorf("the kubeconfig of tenant %s: context %q names user %q, which it does not define", name, ctxName, ctx.AuthInfo)
	}

	merged := existing.DeepCopy()
	if merged.Clusters == nil {
		merged.Clusters = map[string]*clientcmdapi.Cluster{}
	}
	if merged.AuthInfos == nil {
		merged.AuthInfos = map[string]*clientcmdapi.AuthInfo{}
	}
	if merged.Contexts == nil {
		merged.Contexts = map[string]*clientcmdapi.Context{}
	}
	entry := mergedName(name)
	merged.Clusters[entry] = cluster.DeepCopy()
	merged.AuthInfos[entry] = user.DeepCopy()
	newCtx := ctx.DeepCopy()
	newCtx.Cluster, newCtx.AuthInfo = entry, entry
	merged.Contexts[entry] = newCtx
	return *merged, nil
}
