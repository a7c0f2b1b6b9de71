package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

type logsOptions struct {
	deliverOptions
	tail   int64
	follow bool
}

func newLogsCommand() *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs [component]",
		Short: "Print the logs of the application's pods (of one component) on each target",
		Long: "logs prints the last --tail lines of every container of the application's pods, or of one\n" +
			"component's, on each target, each line prefixed with the target, pod and container. With --follow\n" +
			"it keeps streaming every container, also of pods that start later (a rollout's), until interrupted\n" +
			"(Ctrl-C), and then exits 0.",
		Example: "  vcapp logs web --tail 20\n  vcapp logs -f --context staging",
		Args:    cobra.MaximumNArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args) },
	}
	// -f is --follow here, as for kubectl logs; the Application file is --filename.
	o.noFilenameShorthand = true
	o.deliverOptions.addFlags(cmd)
	cmd.Flags().Int64Var(&o.tail, "tail", 100, "lines per container (-1: all)")
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "stream the logs until interrupted")
	return cmd
}

func (o *logsOptions) run(cmd *cobra.Command, args []string) error {
	if o.tail < -1 {
		return fmt.Errorf("--tail must be -1 (all) or more, got %d", o.tail)
	}
	ctx := cmd.Context()
	in, ts, cs, err := o.prepare(ctx, cmd.InOrStdin())
	if err != nil {
		return err
	}
	selector := model.LabelInstance + "=" + in.base.Metadata.Name
	if len(args) == 1 {
		var known []string
		for _, c := range in.base.Spec.Components {
			known = append(known, c.Name)
		}
		if !slices.Contains(known, args[0]) {
			return fmt.Errorf("argument component: %s has no component %q (components: %s); note that -f is --follow for logs: the Application file is --filename",
				in.base.Metadata.Name, args[0], strings.Join(known, ", "))
		}
		selector += "," + model.LabelComponent + "=" + args[0]
	}
	w := &lineWriter{out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr()}
	ns := in.base.Namespace()
	err = forEach(ctx, ts, func(ctx context.Context, i int) error {
		s := &logStreamer{kube: cs[i].Kube(), namespace: ns, selector: selector, target: ts[i].Name, tail: o.tail, follow: o.follow, w: w}
		return s.run(ctx)
	})
	if o.follow && ctx.Err() != nil {
		return nil // interrupted: how --follow ends
	}
	return err
}

// lineWriter writes whole lines of many streams, one at a time.
type lineWriter struct {
	mu          sync.Mutex
	out, errOut io.Writer
}

func (w *lineWriter) line(prefix, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintln(w.out, prefix+text)
}

func (w *lineWriter) problem(prefix, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintln(w.errOut, prefix+text)
}

// logStreamer prints the logs of one target's matching pods.
type logStreamer struct {
	kube      kubernetes.Interface
	namespace string
	selector  string
	target    string
	tail      int64
	follow    bool
	w         *lineWriter

	wg      sync.WaitGroup
	mu      sync.Mutex
	started map[string]bool // pod/container streams started
}

// run lists the pods and prints each container's logs; with follow it streams them
// and, watching the pods, the containers of pods that appear later, until ctx ends.
func (s *logStreamer) run(ctx context.Context) error {
	s.started = map[string]bool{}
	list, err := s.kube.CoreV1().Pods(s.namespace).List(ctx, metav1.ListOptions{LabelSelector: s.selector})
	if err != nil {
		return err
	}
	for i := range list.Items {
		s.start(ctx, &list.Items[i])
	}
	if s.follow {
		s.watch(ctx, list.ResourceVersion)
	}
	s.wg.Wait()
	return nil
}

func (s *logStreamer) watch(ctx context.Context, resourceVersion string) {
	for ctx.Err() == nil {
		wi, err := s.kube.CoreV1().Pods(s.namespace).Watch(ctx, metav1.ListOptions{LabelSelector: s.selector, ResourceVersion: resourceVersion})
		if err != nil {
			if ctx.Err() == nil {
				s.w.problem(fmt.Sprintf("[%s] ", s.target), fmt.Sprintf("watch pods: %v", err))
			}
			return
		}
		for ev := range wi.ResultChan() {
			if ev.Type == watch.Error {
				resourceVersion = "" // expired: watch from now (started streams are not restarted)
				continue
			}
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			resourceVersion = pod.ResourceVersion
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				s.start(ctx, pod)
			}
		}
		wi.Stop()
	}
}

// start starts a stream for each container of pod that has started and has none yet.
func (s *logStreamer) start(ctx context.Context, pod *corev1.Pod) {
	statuses := map[string]bool{}
	for _, st := range append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		statuses[st.Name] = st.State.Running != nil || st.State.Terminated != nil
	}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		key := pod.Name + "/" + c.Name
		// Without --follow every container is asked for (its error is its answer);
		// following, a container is streamed once it has started.
		if s.follow && !statuses[c.Name] {
			continue
		}
		s.mu.Lock()
		if s.started[key] {
			s.mu.Unlock()
			continue
		}
		s.started[key] = true
		s.mu.Unlock()
		prefix := fmt.Sprintf("[%s %s/%s] ", s.target, pod.Name, c.Name)
		opts := &corev1.PodLogOptions{Container: c.Name, Follow: s.follow}
		if s.tail >= 0 {
			opts.TailLines = &s.tail
		}
		req := s.kube.CoreV1().Pods(s.namespace).GetLogs(pod.Name, opts)
		if s.follow {
			s.w.problem(prefix, "following")
		}
		s.wg.Go(func() {
			if err := streamLines(ctx, req.Stream, func(l string) { s.w.line(prefix, l) }); err != nil && ctx.Err() == nil {
				s.w.problem(prefix, fmt.Sprintf("no logs: %v", err))
			}
		})
	}
}

// streamLines calls line for each line stream returns, until it ends or ctx does.
func streamLines(ctx context.Context, stream func(context.Context) (io.ReadCloser, error), line func(string)) error {
	rc, err := stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line(sc.Text())
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
