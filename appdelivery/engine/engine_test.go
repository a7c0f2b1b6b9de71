package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/vcp-dev/vcp/appdelivery/health"
	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
)

// objects parses YAML documents separated by "---", labelled as render labels them.
func objects(t *testing.T, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatal(err)
		}
		l := u.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l["app.kubernetes.io/instance"] = "demo"
		l["app.kubernetes.io/managed-by"] = "vcapp"
		u.SetLabels(l)
		if u.GetNamespace() == "" && u.GetKind() != "Namespace" {
			u.SetNamespace("demo")
		}
		out = append(out, u)
	}
	return out
}

const (
	cmV1     = `{apiVersion: v1, kind: ConfigMap, metadata: {name: settings, labels: {app.kubernetes.io/component: a}}, data: {level: info}}`
	cmV2     = `{apiVersion: v1, kind: ConfigMap, metadata: {name: settings, labels: {app.kubernetes.io/component: a}}, data: {level: debug}}`
	secretV1 = `{apiVersion: v1, kind: Secret, metadata: {name: creds, labels: {app.kubernetes.io/component: a}}, stringData: {password: hunter2, user: admin}}`
	secretV2 = `{apiVersion: v1, kind: Secret, metadata: {name: creds, labels: {app.kubernetes.io/component: a}}, stringData: {password: correct-horse, user: admin}}`
	svc      = `{apiVersion: v1, kind: Service, metadata: {name: web, labels: {app.kubernetes.io/component: b}}, spec: {ports: [{name: http, port: 80}], selector: {app: web}}}`
	claim    = `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, labels: {app.kubernetes.io/component: a}}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}`
	deploy   = `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, labels: {app.kubernetes.io/component: b}},
		spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: nginx}]}}}}`
)

var components = []Component{{Name: "a"}, {Name: "b", DependsOn: []string{"a"}}}

func release(t *testing.T, docs ...string) *Release {
	return &Release{App: "demo", Namespace: "demo", Objects: objects(t, docs...), Components: components, Digest: "sha256:test"}
}

// TestEngine drives plan, deploy, prune, revisions, rollback and delete against a real
// kube-apiserver (no controllers: only kinds that are healthy when they exist are waited
// for).
func TestEngine(t *testing.T) {
	cluster := framework.StartCluster(t, localcluster.Config{ControlPlaneOnly: true})
	ctx := t.Context()
	c, err := Connect("test", cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{ProgressDeadline: 20 * time.Second, User: "tester", KeepRevisions: 3}
	kube := cluster.SuperClient

	t.Run("first deploy creates the namespace and everything, in order, and revision 1", func(t *testing.T) {
		plan, err := c.Plan(ctx, release(t, cmV1, secretV1, svc), opts)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Count(Create) != 4 || plan.Count(Change)+plan.Count(Delete) != 0 {
			t.Errorf("plan of a new application: %+v", plan.Changes)
		}
		var seen []string
		o := opts
		o.Progress = func(s Snapshot) {
			for _, obj := range s.Objects {
				seen = append(seen, obj.Ref.Kind)
			}
		}
		res, err := c.Deploy(ctx, release(t, cmV1, secretV1, svc), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != health.Healthy || res.Revision != 1 {
			t.Fatalf("deploy: %+v", res)
		}
		// Component b depends on a: the first wait is a's alone.
		if len(seen) == 0 || seen[0] == "Service" {
			t.Errorf("first health check saw %v: b's objects before a was healthy", seen)
		}
		cm, err := kube.CoreV1().ConfigMaps("demo").Get(ctx, "settings", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cm.ManagedFields) != 1 || cm.ManagedFields[0].Manager != FieldManager || cm.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("managed fields: %+v", cm.ManagedFields)
		}
		h, err := c.History(ctx, "demo", "demo")
		if err != nil || len(h) != 1 || h[0].Status != RevisionHealthy || h[0].User != "tester" || h[0].Digest != "sha256:test" || len(h[0].Inventory) != 4 {
			t.Fatalf("history: %+v, %v", h, err)
		}
		objs, err := h[0].Objects()
		if err != nil || len(objs) != 3 {
			t.Errorf("revision 1 holds %d objects (%v), want 3", len(objs), err)
		}
	})

	t.Run("plan of what is deployed shows no change", func(t *testing.T) {
		plan, err := c.Plan(ctx, release(t, cmV1, secretV1, svc), opts)
		if err != nil {
			t.Fatal(err)
		}
		if plan.HasChanges() {
			t.Errorf("changes: %+v", plan.Changes)
		}
	})

	t.Run("plan shows changes with secrets masked, deletions, and keeps claims", func(t *testing.T) {
		plan, err := c.Plan(ctx, release(t, cmV2, secretV2, claim), opts)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]PlannedChange{}
		for _, ch := range plan.Changes {
			byName[ch.Ref.Kind+"/"+ch.Ref.Name] = ch
		}
		if ch := byName["ConfigMap/settings"]; ch.Action != Change || !strings.Contains(ch.Diff, "-  level: info") || !strings.Contains(ch.Diff, "+  level: debug") {
			t.Errorf("ConfigMap: %s\n%s", ch.Action, ch.Diff)
		}
		ch := byName["Secret/creds"]
		if ch.Action != Change || !strings.Contains(ch.Diff, "password: '*** (changed)'") || strings.Contains(ch.Diff, "user: '*** (changed)'") {
			t.Errorf("Secret: %s\n%s", ch.Action, ch.Diff)
		}
		for _, secret := range []string{"hunter2", "correct-horse", "aHVudGVyMg", "Y29ycmVjdC1ob3Jz"} {
			if strings.Contains(ch.Diff, secret) {
				t.Errorf("the Secret's diff shows a value:\n%s", ch.Diff)
			}
		}
		if byName["Service/web"].Action != Delete || byName["PersistentVolumeClaim/data"].Action != Create {
			t.Errorf("changes: %+v", plan.Changes)
		}
	})

	t.Run("deploy prunes what is no longer rendered, never a claim", func(t *testing.T) {
		o := opts
		o.NoWait = true // no volume provisioner: the claim stays Pending
		res, err := c.Deploy(ctx, release(t, cmV2, secretV2, claim), o)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Pruned) != 1 || res.Pruned[0].Kind != "Service" {
			t.Errorf("pruned %v, want the Service", res.Pruned)
		}
		if _, err := kube.CoreV1().Services("demo").Get(ctx, "web", metav1.GetOptions{}); err == nil {
			t.Error("the Service is still there")
		}
		res, err = c.Deploy(ctx, release(t, cmV2, secretV2), o)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Pruned) != 0 {
			t.Errorf("pruned %v, want nothing (the claim is kept)", res.Pruned)
		}
		if _, err := kube.CoreV1().PersistentVolumeClaims("demo").Get(ctx, "data", metav1.GetOptions{}); err != nil {
			t.Errorf("the claim: %v", err)
		}
		// The kept claim is still tracked: retained by the revision, shown by status,
		// kept again by the next plan.
		if len(res.Retained) != 1 || res.Retained[0].Kind != "PersistentVolumeClaim" {
			t.Errorf("retained %v, want the claim", res.Retained)
		}
		st, err := c.Status(ctx, "demo", "demo", opts)
		if err != nil || len(st.Retained) != 1 || st.Retained[0].Name != "data" || len(st.Revision.Inventory) != 3 {
			t.Errorf("status: retained %v, inventory %v, %v", st.Retained, st.Revision.Inventory, err)
		}
		plan, err := c.Plan(ctx, release(t, cmV2, secretV2), opts)
		if err != nil || len(plan.Kept) != 1 || plan.Kept[0].Name != "data" || plan.HasChanges() {
			t.Errorf("plan after keeping the claim: kept %v, changes %v, %v", plan.Kept, plan.Changes, err)
		}
	})

	t.Run("at most KeepRevisions revisions; rollback re-applies one as a new, pinned revision", func(t *testing.T) {
		o := opts
		o.NoWait = true // revision 2 has the claim back: Pending without a provisioner
		res, err := c.Rollback(ctx, "demo", "demo", 2, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Revision != 4 {
			t.Errorf("rollback: %+v", res)
		}
		h, err := c.History(ctx, "demo", "demo")
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 3 || h[0].Number != 2 || h[2].RollbackOf != 2 || !h[2].Pinned {
			t.Errorf("history after rollback: %+v", h)
		}
		if p := h[2].Pin(); p == nil || p.Revision != 2 || p.ByRevision != 4 || p.User != "tester" || p.Time.IsZero() {
			t.Errorf("pin: %+v", p)
		}
		// The claim is back in the inventory, no longer retained.
		if len(h[2].Retained) != 0 || !slices.ContainsFunc(h[2].Inventory, func(r Ref) bool { return r.Kind == "PersistentVolumeClaim" }) {
			t.Errorf("rollback's inventory %v, retained %v", h[2].Inventory, h[2].Retained)
		}
		cm, _ := kube.CoreV1().ConfigMaps("demo").Get(ctx, "settings", metav1.GetOptions{})
		if cm.Data["level"] != "debug" {
			t.Errorf("ConfigMap after rollback to 2: %v", cm.Data)
		}
		if _, err := c.Rollback(ctx, "demo", "demo", 1, opts); err == nil || !strings.Contains(err.Error(), "no revision 1") {
			t.Errorf("rollback to a trimmed revision: %v", err)
		}
	})

	t.Run("a pinned application is deployed to only with Unpin, which is recorded", func(t *testing.T) {
		plan, err := c.Plan(ctx, release(t, cmV2, secretV2, deploy), opts)
		if err != nil || plan.Pin == nil || plan.Pin.Revision != 2 {
			t.Fatalf("plan of a pinned application: pin %+v, %v", plan.Pin, err)
		}
		_, err = c.Deploy(ctx, release(t, cmV2, secretV2, deploy), opts)
		var pinned *PinnedError
		if !errors.As(err, &pinned) || pinned.Pin.ByRevision != 4 || !strings.Contains(err.Error(), "pinned to revision 2 by rollback revision 4 (tester at ") {
			t.Fatalf("deploy over the pin: %v", err)
		}
		if _, err := kube.AppsV1().Deployments("demo").Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("a refused deploy created the Deployment: %v", err)
		}
		if h, _ := c.History(ctx, "demo", "demo"); h[len(h)-1].Number != 4 {
			t.Errorf("a refused deploy wrote revision %d", h[len(h)-1].Number)
		}
	})

	t.Run("a workload that never gets healthy times out, naming it", func(t *testing.T) {
		o := opts
		o.ProgressDeadline = 2 * time.Second
		o.Unpin = true
		res, err := c.Deploy(ctx, release(t, cmV2, secretV2, deploy), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != health.Progressing || !strings.Contains(res.Message, "progress deadline (2s) exceeded; not healthy: Deployment demo/web Progressing (") {
			t.Errorf("deploy without controllers: %+v", res)
		}
		if res.Unpinned == nil || res.Unpinned.ByRevision != 4 {
			t.Errorf("the deploy did not record the pin it cleared: %+v", res.Unpinned)
		}
		if h, _ := c.History(ctx, "demo", "demo"); h[len(h)-1].Unpinned == nil || h[len(h)-1].Pinned {
			t.Errorf("revision %d: unpinned %+v, pinned %v", h[len(h)-1].Number, h[len(h)-1].Unpinned, h[len(h)-1].Pinned)
		}
		st, err := c.WaitStatus(ctx, "demo", "demo", Options{ProgressDeadline: time.Second})
		if err != nil || !st.TimedOut || !strings.Contains(st.Message, "progress deadline (1s) exceeded; not healthy: Deployment demo/web") {
			t.Errorf("status --wait: %+v, %v", st, err)
		}
		st, err = c.Status(ctx, "demo", "demo", opts)
		if err != nil || st.Revision.Status != RevisionTimeout {
			t.Errorf("status: %+v, %v", st, err)
		}
	})

	t.Run("a wait sees a rollout end when it happens, not an interval later", func(t *testing.T) {
		ref := Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "demo", Name: "web"}
		o := opts
		o.Interval = time.Minute // polling alone would see the end a minute later
		type waited struct {
			snap Snapshot
			err  error
		}
		done := make(chan waited, 1)
		checks := make(chan struct{}, 100)
		o.Progress = func(Snapshot) { checks <- struct{}{} }
		go func() {
			snap, err := c.Wait(ctx, "demo", []Ref{ref}, time.Now().Add(30*time.Second), o)
			done <- waited{snap, err}
		}()
		<-checks // the first check: Progressing (no controller)
		// What the Deployment controller would write at the end of the rollout.
		d, err := kube.AppsV1().Deployments("demo").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
		start := time.Now()
		if _, err := kube.AppsV1().Deployments("demo").UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		select {
		case w := <-done:
			if w.err != nil || w.snap.Status != health.Healthy {
				t.Errorf("wait: %+v, %v", w.snap, w.err)
			}
			t.Logf("healthy seen %s after the status write", time.Since(start).Round(time.Millisecond))
		case <-time.After(10 * time.Second):
			t.Fatal("the wait did not see the Deployment become healthy within 10s")
		}
	})

	t.Run("delete removes exactly the inventory", func(t *testing.T) {
		other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "demo"}}
		if _, err := kube.CoreV1().ConfigMaps("demo").Create(ctx, other, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		del, kept, err := c.DeletePlan(ctx, "demo", "demo", opts)
		if err != nil {
			t.Fatal(err)
		}
		// The claim left the inventory two deploys ago, and is still tracked.
		if len(del) != 3 || len(kept) != 2 || kept[0].Kind != "Namespace" || kept[1].Kind != "PersistentVolumeClaim" {
			t.Errorf("delete plan: delete %v, keep %v", del, kept)
		}
		deleted, err := c.Delete(ctx, "demo", "demo", opts)
		if err != nil || len(deleted) != 3 {
			t.Fatalf("deleted %v, %v", deleted, err)
		}
		if _, err := kube.CoreV1().ConfigMaps("demo").Get(ctx, "other", metav1.GetOptions{}); err != nil {
			t.Errorf("a ConfigMap not in the inventory: %v", err)
		}
		h, err := c.History(ctx, "demo", "demo")
		if err != nil || len(h) != 1 || h[0].Status != RevisionDeleted || len(h[0].Retained) != 2 || len(h[0].Inventory) != 0 {
			t.Fatalf("revisions left: %+v, %v", h, err)
		}
		st, err := c.Status(ctx, "demo", "demo", opts)
		if err != nil || st.Status != health.Missing || len(st.Retained) != 2 {
			t.Errorf("status after delete: %+v, %v", st, err)
		}
	})

	t.Run("a later delete with the opt-in deletes what was retained", func(t *testing.T) {
		o := opts
		o.PruneClaims = true
		deleted, err := c.Delete(ctx, "demo", "demo", o)
		if err != nil || len(deleted) != 1 || deleted[0].Kind != "PersistentVolumeClaim" {
			t.Fatalf("delete --prune-claims: %v, %v", deleted, err)
		}
		// No controllers: the claim's protection finalizer stays, the claim is terminating.
		if pvc, err := kube.CoreV1().PersistentVolumeClaims("demo").Get(ctx, "data", metav1.GetOptions{}); !apierrors.IsNotFound(err) && (err != nil || pvc.DeletionTimestamp == nil) {
			t.Errorf("the retained claim is not being deleted: %v", err)
		}
		o.PruneNamespaces = true
		deleted, err = c.Delete(ctx, "demo", "demo", o)
		if err != nil || len(deleted) != 1 || deleted[0].Kind != "Namespace" {
			t.Fatalf("delete --prune-namespaces: %v, %v", deleted, err)
		}
		if h, err := c.History(ctx, "demo", "demo"); err != nil || len(h) != 0 {
			t.Errorf("revisions left: %+v, %v", h, err)
		}
	})
}

func TestLevels(t *testing.T) {
	levels, needed := levelsOf([]Component{{Name: "web", DependsOn: []string{"api"}}, {Name: "db"}, {Name: "api", DependsOn: []string{"db"}}, {Name: "cron"}})
	got := ""
	for _, l := range levels {
		got += strings.Join(l, ",") + ";"
	}
	if got != "db,cron;api;web;" || !needed["db"] || !needed["api"] || needed["web"] || needed["cron"] {
		t.Errorf("levels %s, needed %v", got, needed)
	}
}

func TestPruneSet(t *testing.T) {
	inv := []Ref{
		{Version: "v1", Kind: "ConfigMap", Namespace: "a", Name: "old"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "a", Name: "kept"},
		{Version: "v1", Kind: "PersistentVolumeClaim", Namespace: "a", Name: "data"},
		{Version: "v1", Kind: "Namespace", Name: "a"},
	}
	objs := objects(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: kept, namespace: a}}`)
	prune, kept := pruneSet(inv, objs, Options{})
	if len(prune) != 1 || prune[0].Name != "old" || len(kept) != 2 {
		t.Errorf("prune %v keep %v", prune, kept)
	}
	prune, kept = pruneSet(inv, objs, Options{PruneClaims: true, PruneNamespaces: true})
	if len(prune) != 3 || len(kept) != 0 {
		t.Errorf("with opt-ins: prune %v keep %v", prune, kept)
	}
}

func TestNormalizeMasksSecrets(t *testing.T) {
	live := objects(t, `{apiVersion: v1, kind: Secret, metadata: {name: s, uid: x, resourceVersion: "3"}, data: {a: YQ==, b: Yg==}}`)[0]
	if data := normalize(live, nil)["data"].(map[string]any); data["a"] != "***" || data["b"] != "***" {
		t.Errorf("masked live data %v", data)
	}
	next := objects(t, `{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {a: YQ==, b: Yw==, c: Yw==}}`)[0]
	got := normalize(next, live)
	data := got["data"].(map[string]any)
	if data["a"] != "***" || data["b"] != "*** (changed)" || data["c"] != "*** (changed)" {
		t.Errorf("masked data %v", data)
	}
	if md := normalize(live, next)["metadata"].(map[string]any); md["uid"] != nil || md["resourceVersion"] != nil {
		t.Errorf("server fields kept: %v", md)
	}
}
