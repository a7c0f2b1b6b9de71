package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

type logsOptions struct {
	deliverOptions
	tail int64
}

func newLogsCommand() *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs [component]",
		Short: "Print the logs of the application's pods (of one component) on each target",
		Long: "logs prints the last --tail lines of every container of the application's pods, or of one\n" +
			"component's, on each target, each line prefixed with the target, pod and container.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args) },
	}
	o.deliverOptions.addFlags(cmd)
	cmd.Flags().Int64Var(&o.tail, "tail", 100, "lines per container")
	return cmd
}

func (o *logsOptions) run(cmd *cobra.Command, args []string) error {
	ctx := cmd.Context()
	in, ts, cs, err := o.prepare(ctx, cmd.InOrStdin())
	if err != nil {
		return err
	}
	selector := model.LabelInstance + "=" + in.base.Metadata.Name
	if len(args) == 1 {
		selector += "," + model.LabelComponent + "=" + args[0]
	}
	ns := in.base.Namespace()
	var mu sync.Mutex
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	return forEach(ctx, ts, func(ctx context.Context, i int) error {
		kube := cs[i].Kube()
		pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
				prefix := fmt.Sprintf("[%s %s/%s] ", ts[i].Name, p.Name, c.Name)
				lines, err := containerLogs(ctx, kube.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: c.Name, TailLines: &o.tail}).Stream)
				mu.Lock()
				if err != nil {
					fmt.Fprintf(errOut, "%sno logs: %v\n", prefix, err)
				}
				for _, l := range lines {
					fmt.Fprintln(out, prefix+l)
				}
				mu.Unlock()
			}
		}
		return nil
	})
}

func containerLogs(ctx context.Context, stream func(context.Context) (io.ReadCloser, error)) ([]string, error) {
	rc, err := stream(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var lines []string
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}
