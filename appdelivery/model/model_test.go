package model

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const header = "apiVersion: apps.vcp.dev/v1alpha1\nkind: Application\nmetadata: {name: shop}\n"

// checkErr fails unless err contains every one of want, or is nil when want is empty.
func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

func TestParseApplication(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr []string
	}{
		{name: "valid", doc: header + "spec: {components: [{name: web, type: worker, properties: {image: x}}]}"},
		{name: "not YAML", doc: "a: [", wantErr: []string{"not a valid YAML document"}},
		{name: "not a map", doc: "- a\n- b\n", wantErr: []string{"not a Application: the document is not a YAML map"}},
		{
			name:    "wrong kind",
			doc:     "apiVersion: apps.vcp.dev/v1alpha1\nkind: Profile\nmetadata: {name: p}\n",
			wantErr: []string{"not a apps.vcp.dev/v1alpha1 Application", `kind: Unsupported value: "Profile": supported values: "Application"`},
		},
		{
			name:    "wrong version",
			doc:     "apiVersion: apps.vcp.dev/v1\nkind: Application\n",
			wantErr: []string{`apiVersion: Unsupported value: "apps.vcp.dev/v1": supported values: "apps.vcp.dev/v1alpha1"`},
		},
		{
			name:    "unknown field names its path and the known fields",
			doc:     header + "spec: {components: [{name: web, type: worker, trait: []}]}",
			wantErr: []string{`Application "shop" is invalid`, "spec.components[0].trait: Forbidden: unknown field (known: dependsOn, name, properties, traits, type)"},
		},
		{
			name:    "metadata is not ObjectMeta",
			doc:     header[:len(header)-len("metadata: {name: shop}\n")] + "metadata: {name: shop, labels: {a: b}}\n",
			wantErr: []string{"metadata.labels: Forbidden: unknown field (known: name)"},
		},
		{
			name:    "duplicate key",
			doc:     header + "spec:\n  namespace: a\n  namespace: b\n",
			wantErr: []string{"not a valid YAML document", `key "namespace" already set`},
		},
		{
			name:    "wrong type names the field",
			doc:     header + "spec: {components: [{name: web, type: worker, dependsOn: db}]}",
			wantErr: []string{"spec.components[0].dependsOn: Invalid value: expected a list, got a JSON string"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseApplication([]byte(tt.doc))
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestFieldErrorsType(t *testing.T) {
	_, err := ParseApplication([]byte(header + "spec: {bogus: 1}"))
	var fe *FieldErrors
	if !errors.As(err, &fe) || len(fe.Errors) != 1 || fe.Errors[0].Field != "spec.bogus" {
		t.Fatalf("error = %#v, want a *FieldErrors with one error at spec.bogus", err)
	}
}

// TestValidate checks each validation rule through the message a user reads: it names
// the field.
func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantErr []string
	}{
		{name: "minimal service", spec: `
  components:
  - {name: web, type: service, properties: {image: nginx, ports: [{name: http, port: 80}]}}`},
		{name: "no components", spec: "\n  components: []", wantErr: []string{"spec.components: Required value"}},
		{name: "invalid namespace", spec: `
  namespace: Shop
  components: [{name: w, type: worker, properties: {image: x}}]`, wantErr: []string{`spec.namespace: Invalid value: "Shop"`}},
		{name: "component names", spec: `
  components:
  - {name: Web, type: worker, properties: {image: x}}
  - {name: w, type: worker, properties: {image: x}}
  - {name: w, type: worker, properties: {image: x}}
  - {name: 1db, type: statefulset, properties: {image: x}}
  - {name: a-very-long-cronjob-name-that-exceeds-fifty-two-chars, type: cronjob, properties: {image: x, schedule: "@daily"}}`,
			wantErr: []string{
				`spec.components[0].name: Invalid value: "Web"`,
				`spec.components[2].name: Duplicate value: "w"`,
				`spec.components[3].name: Invalid value: "1db": names a Service, so: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character`,
				"spec.components[4].name: Too long: may not be more than 52 bytes",
			}},
		{name: "unknown component type", spec: `
  components: [{name: w, type: deployment}]`, wantErr: []string{`spec.components[0].type: Unsupported value: "deployment": supported values: "cronjob", "daemon", "job", "manifests", "service", "statefulset", "worker"`}},
		{name: "unknown trait", spec: `
  components:
  - {name: a, type: worker, properties: {image: x}}
  - name: web
    type: worker
    properties: {image: x}
    traits: [{type: scal}]`, wantErr: []string{`spec.components[1].traits[0].type: Unsupported value: "scal": supported values: "annotations", "autoscale", "config", "env", "labels", "probes", "resources", "route", "scale", "secretRef", "sidecar", "storage"`}},
		{name: "trait not allowed on the type", spec: `
  components:
  - name: agent
    type: daemon
    properties: {image: x}
    traits: [{type: scale, properties: {replicas: 2}}]
  - name: m
    type: manifests
    properties: {objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}]}
    traits: [{type: env, properties: {A: b}}]
  - name: w
    type: worker
    properties: {image: x}
    traits: [{type: route, properties: {host: a.example.com}}]`, wantErr: []string{
			`spec.components[0].traits[0].type: Invalid value: "scale": not allowed on a daemon component (allowed on: service, worker, statefulset)`,
			`spec.components[1].traits[0].type: Invalid value: "env": not allowed on a manifests component`,
			`spec.components[2].traits[0].type: Invalid value: "route": not allowed on a worker component (allowed on: service)`,
		}},
		{name: "duplicate and conflicting traits", spec: `
  components:
  - name: web
    type: worker
    properties: {image: x}
    traits:
    - {type: scale, properties: {replicas: 1}}
    - {type: scale, properties: {replicas: 2}}
    - {type: autoscale, properties: {maxReplicas: 3, cpuUtilization: 50}}
    - {type: resources, properties: {requests: {cpu: 1}}}`, wantErr: []string{
			`spec.components[0].traits[1].type: Duplicate value: "scale"`,
			`spec.components[0].traits[2].type: Invalid value: "autoscale": may not be combined with the scale trait`,
		}},
		{name: "required properties per type", spec: `
  components:
  - {name: web, type: service, properties: {image: x}}
  - {name: w, type: worker}
  - {name: c, type: cronjob, properties: {image: x}}
  - {name: m, type: manifests}`, wantErr: []string{
			"spec.components[0].properties.ports: Required value: a service exposes at least one port",
			"spec.components[1].properties.image: Required value",
			`spec.components[2].properties.schedule: Required value: a cron schedule such as "*/15 * * * *" or "@daily"`,
			"spec.components[3].properties.objects: Required value: a manifests component has at least one object",
		}},
		{name: "properties of another type", spec: `
  components: [{name: w, type: worker, properties: {image: x, schedule: "@daily"}}]`,
			wantErr: []string{"spec.components[0].properties.schedule: Forbidden: unknown field (known: args, command, image, imagePullPolicy, ports, serviceAccountName)"}},
		{name: "property values", spec: `
  components:
  - name: web
    type: service
    properties:
      image: "nginx latest"
      imagePullPolicy: Sometimes
      serviceType: External
      ports:
      - {name: http, port: 80}
      - {name: http, port: 70000, protocol: ICMP}
      - {port: 81}
  - {name: j, type: job, properties: {image: x, restartPolicy: Always, backoffLimit: -1}}
  - {name: c, type: cronjob, properties: {image: x, schedule: "* * *", concurrencyPolicy: Sometimes}}
  - {name: d, type: cronjob, properties: {image: x, schedule: "TZ=UTC 0 * * * *"}}`, wantErr: []string{
			`spec.components[0].properties.image: Invalid value: "nginx latest": must not contain whitespace`,
			`spec.components[0].properties.imagePullPolicy: Unsupported value: "Sometimes"`,
			`spec.components[0].properties.serviceType: Unsupported value: "External"`,
			`spec.components[0].properties.ports[1].name: Duplicate value: "http"`,
			"spec.components[0].properties.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
			`spec.components[0].properties.ports[1].protocol: Unsupported value: "ICMP"`,
			"spec.components[0].properties.ports[2].name: Required value: routes and probes refer to ports by name",
			`spec.components[1].properties.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`,
			"spec.components[1].properties.backoffLimit: Invalid value: -1: must be at least 0",
			`spec.components[2].properties.schedule: Invalid value: "* * *": expected exactly 5 fields`,
			`spec.components[2].properties.concurrencyPolicy: Unsupported value: "Sometimes"`,
			"spec.components[3].properties.schedule: Invalid value: \"TZ=UTC 0 * * * *\": set the time zone with timeZone",
		}},
		{name: "manifests objects", spec: `
  components:
  - name: m
    type: manifests
    properties:
      objects:
      - {kind: ConfigMap, metadata: {name: a}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {}}
      - {apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {replica: 2}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: Other}}
      - {apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {anything: goes}}
      - {apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}`, wantErr: []string{
			"spec.components[0].properties.objects[0].apiVersion: Required value",
			"spec.components[0].properties.objects[1].metadata.name: Required value: objects are applied by name",
			"spec.components[0].properties.objects[2].spec.replica: Forbidden: unknown field",
			`spec.components[0].properties.objects[3].metadata.namespace: Invalid value: "Other"`,
			`spec.components[0].properties.objects[5]: Duplicate value: "Widget w (also objects[4])"`,
		}},
		{name: "dependsOn", spec: `
  components:
  - {name: a, type: worker, properties: {image: x}, dependsOn: [a, b, b, nope]}
  - {name: b, type: worker, properties: {image: x}}`, wantErr: []string{
			`spec.components[0].dependsOn[0]: Invalid value: "a": a component cannot depend on itself`,
			`spec.components[0].dependsOn[2]: Duplicate value: "b"`,
			`spec.components[0].dependsOn[3]: Not found: "nope"`,
		}},
		{name: "dependency cycle is named", spec: `
  components:
  - {name: web, type: worker, properties: {image: x}, dependsOn: [api]}
  - {name: api, type: worker, properties: {image: x}, dependsOn: [db]}
  - {name: db, type: worker, properties: {image: x}, dependsOn: [web]}
  - {name: cache, type: worker, properties: {image: x}, dependsOn: [db]}`,
			wantErr: []string{`spec.components[0].dependsOn: Invalid value: ["api"]: dependency cycle: web -> api -> db -> web`}},
		{name: "scale and autoscale", spec: `
  components:
  - name: w
    type: worker
    properties: {image: x}
    traits:
    - {type: autoscale, properties: {minReplicas: 5, maxReplicas: 3, memoryUtilization: 0}}
  - name: v
    type: worker
    properties: {image: x}
    traits:
    - {type: autoscale, properties: {maxReplicas: 3}}
  - name: s
    type: worker
    properties: {image: x}
    traits: [{type: scale}]`, wantErr: []string{
			"spec.components[0].traits[0].properties.maxReplicas: Invalid value: 3: must be at least minReplicas",
			"spec.components[0].traits[0].properties.memoryUtilization: Invalid value: 0: must be at least 1",
			"spec.components[0].traits[0].properties.memoryUtilization: Invalid value: 0: utilization is a percentage of the request: the resources trait must request memory",
			"spec.components[1].traits[0].properties: Required value: set cpuUtilization and/or memoryUtilization",
			"spec.components[2].traits[0].properties.replicas: Required value",
		}},
		{name: "route", spec: `
  components:
  - name: web
    type: service
    properties: {image: x, ports: [{name: http, port: 80}]}
    traits: [{type: route, properties: {host: "Shop.example.com", path: store, pathType: Glob, port: https, tlsSecretName: "a b"}}]
  - name: api
    type: service
    properties: {image: x, ports: [{name: http, port: 80}]}
    traits: [{type: route, properties: {}}]`, wantErr: []string{
			`spec.components[0].traits[0].properties.host: Invalid value: "Shop.example.com"`,
			`spec.components[0].traits[0].properties.path: Invalid value: "store": must begin with "/"`,
			`spec.components[0].traits[0].properties.pathType: Unsupported value: "Glob"`,
			`spec.components[0].traits[0].properties.port: Not found: "https"`,
			`spec.components[0].traits[0].properties.tlsSecretName: Invalid value: "a b"`,
			"spec.components[1].traits[0].properties.host: Required value",
		}},
		{name: "env, labels, annotations", spec: `
  components:
  - name: w
    type: worker
    properties: {image: x}
    traits:
    - {type: env, properties: {"1BAD": x, PORT: 8080}}
  - name: v
    type: worker
    properties: {image: x}
    traits:
    - {type: env, properties: {"1BAD": x}}
    - {type: labels, properties: {"app.kubernetes.io/component": x, "bad key!": v}}
    - {type: annotations, properties: {"bad key!": v}}`, wantErr: []string{
			"spec.components[0].traits[0].properties[PORT]: Invalid value: expected a string, got a JSON number (quote it",
			`spec.components[1].traits[0].properties[1BAD]: Invalid value: "1BAD"`,
			"spec.components[1].traits[1].properties[app.kubernetes.io/component]: Forbidden: set by vcapp",
			`spec.components[1].traits[1].properties: Invalid value: "bad key!"`,
			`spec.components[1].traits[2].properties: Invalid value: "bad key!"`,
		}},
		{name: "config, secretRef, storage", spec: `
  components:
  - name: w
    type: worker
    properties: {image: x}
    traits:
    - type: config
      properties: {mounts: [{name: a, mountPath: /etc/a, files: {"a b": x}}, {name: a, mountPath: etc, files: {}}]}
    - type: secretRef
      properties: {secrets: [{name: db}, {name: api, envPrefix: X_, env: {A: "bad key!"}, mountPath: /etc/a/}]}
    - type: storage
      properties: {volumes: [{name: config-x, mountPath: /data}, {name: tmp, mountPath: /tmp, emptyDir: true, storageClassName: fast}, {name: big, mountPath: /big, size: -1Gi}]}
    - type: env
      properties: {A: x}`, wantErr: []string{
			`spec.components[0].traits[0].properties.mounts[0].files[a b]: Invalid value: "a b"`,
			`spec.components[0].traits[0].properties.mounts[1].name: Duplicate value: "a"`,
			"spec.components[0].traits[0].properties.mounts[1].files: Required value",
			`spec.components[0].traits[0].properties.mounts[1].mountPath: Invalid value: "etc": must be an absolute path`,
			"spec.components[0].traits[1].properties.secrets[0]: Required value: set envFrom, env and/or mountPath",
			"spec.components[0].traits[1].properties.secrets[1].envPrefix: Forbidden: only with envFrom",
			`spec.components[0].traits[1].properties.secrets[1].env[A]: Invalid value: "bad key!": not a Secret key`,
			`spec.components[0].traits[1].properties.secrets[1].mountPath: Duplicate value: "/etc/a/ (also spec.components[0].traits[0].properties.mounts[0].mountPath)"`,
			`spec.components[0].traits[1].properties.secrets[1].env[A]: Duplicate value: "A (also set by the env trait)"`,
			`spec.components[0].traits[2].properties.volumes[0].name: Invalid value: "config-x": the prefix config- is reserved`,
			"spec.components[0].traits[2].properties.volumes[0].size: Required value: the claim's storage request, e.g. 10Gi",
			"spec.components[0].traits[2].properties.volumes[1].storageClassName: Forbidden: not with emptyDir",
			`spec.components[0].traits[2].properties.volumes[2].size: Invalid value: "-1Gi": must be positive`,
		}},
		{name: "resources, probes, sidecar", spec: `
  components:
  - name: w
    type: worker
    properties: {image: x, ports: [{name: http, port: 80}]}
    traits:
    - {type: resources, properties: {requests: {cpu: 2, memory: lots}, limits: {cpu: 1}}}
    - type: probes
      properties:
        liveness: {httpGet: {path: /, port: admin}}
        readiness: {httpGet: {path: /, port: http}, tcpSocket: {port: http}}
        startup: {tcpSocket: {port: 0}}
    - type: sidecar
      properties: {containers: [{name: w, image: img}, {name: log}, {name: ship, image: z, volumeMounts: [{name: data, mountPath: /d}]}]}`, wantErr: []string{
			`spec.components[0].traits[0].properties.requests[memory]: Invalid value: "lots": quantities must match`,
			`spec.components[0].traits[0].properties.requests[cpu]: Invalid value: "2": must not exceed the limit 1`,
			`spec.components[0].traits[1].properties.liveness.httpGet.port: Not found: "admin"`,
			"spec.components[0].traits[1].properties.readiness: Invalid value: [\"httpGet\",\"tcpSocket\"]: set exactly one of exec, httpGet, tcpSocket and grpc",
			"spec.components[0].traits[1].properties.startup.tcpSocket.port: Invalid value: 0: must be between 1 and 65535",
			`spec.components[0].traits[2].properties.containers[0].name: Duplicate value: "w (the main container is named after the component)"`,
			"spec.components[0].traits[2].properties.containers[1].image: Required value",
			`spec.components[0].traits[2].properties.containers[2].volumeMounts[0].name: Not found: "data"`,
		}},
		{name: "targets and rollout", spec: `
  components: [{name: w, type: worker, properties: {image: x}}]
  targets:
  - {name: eu, context: prod-eu}
  - {name: eu, context: prod-eu-2}
  - {name: us}
  - {name: vc, context: x, virtualCluster: {name: a}}
  - {name: fleet, virtualCluster: {namespace: tenants, selector: {matchLabels: {"bad key!": x}}}}
  - {name: t, context: c, overrides: {components: [{name: w, properties: {image!: img1, image: img2}}]}}
  rollout:
    parallelism: -1
    progressDeadline: 5 minutes
    stages:
    - {name: canary, targets: [eu]}
    - {name: rest, targets: [eu, nope]}
    - {name: empty, targets: []}`, wantErr: []string{
			`spec.targets[1].name: Duplicate value: "eu"`,
			"spec.targets[2]: Required value: set context or virtualCluster",
			"spec.targets[3].virtualCluster: Forbidden: may not be set together with context",
			"spec.targets[4].virtualCluster.selector.matchLabels",
			`spec.targets[5].overrides.components[0].properties.image!: Duplicate value: "both image and image! are set"`,
			"spec.rollout.parallelism: Invalid value: -1",
			`spec.rollout.progressDeadline: Invalid value: "5 minutes": must be a duration such as "90s" or "10m"`,
			`spec.rollout.stages[1].targets[0]: Invalid value: "eu": already in stage canary`,
			`spec.rollout.stages[1].targets[1]: Not found: "nope"`,
			"spec.rollout.stages[2].targets: Required value",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := ParseApplication([]byte(header + "spec:" + tt.spec))
			if err != nil {
				t.Fatalf("ParseApplication: %v", err)
			}
			checkErr(t, app.Validate(), tt.wantErr)
		})
	}
}

func TestCatalog(t *testing.T) {
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"service has image", ServiceComponent.HasProperty("image"), true},
		{"service has serviceType", ServiceComponent.HasProperty("serviceType"), true},
		{"worker has no serviceType", WorkerComponent.HasProperty("serviceType"), false},
		{"cronjob has schedule", CronJobComponent.HasProperty("schedule"), true},
		{"cronjob has backoffLimit", CronJobComponent.HasProperty("backoffLimit"), true},
		{"manifests has no image", ManifestsComponent.HasProperty("image"), false},
		{"unknown type has nothing", ComponentType("x").HasProperty("image"), false},
		{"scale on service", ScaleTrait.AllowedOn(ServiceComponent), true},
		{"scale not on daemon", ScaleTrait.AllowedOn(DaemonComponent), false},
		{"scale not on job", ScaleTrait.AllowedOn(JobComponent), false},
		{"route only on service", RouteTrait.AllowedOn(StatefulSetComponent), false},
		{"labels on manifests", LabelsTrait.AllowedOn(ManifestsComponent), true},
		{"scale conflicts with autoscale", ScaleTrait.ConflictsWith(AutoscaleTrait), true},
		{"manifests is no workload", ManifestsComponent.IsWorkload(), false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if len(ComponentTypes()) != 7 || len(TraitTypes()) != 12 {
		t.Errorf("ComponentTypes() = %v, TraitTypes() = %v", ComponentTypes(), TraitTypes())
	}
}

func TestProgressDeadline(t *testing.T) {
	for _, tt := range []struct {
		rollout string
		want    time.Duration
		wantErr string
	}{
		{"", DefaultProgressDeadline, ""},
		{"rollout: {parallelism: 2}", DefaultProgressDeadline, ""},
		{"rollout: {progressDeadline: 90s}", 90 * time.Second, ""},
		{"rollout: {progressDeadline: 1h30m}", 90 * time.Minute, ""},
		{"rollout: {progressDeadline: 0s}", DefaultProgressDeadline, `spec.rollout.progressDeadline: Invalid value: "0s": must be positive`},
		{"rollout: {progressDeadline: -1m}", DefaultProgressDeadline, `spec.rollout.progressDeadline: Invalid value: "-1m": must be positive`},
		{"rollout: {progressDeadline: soon}", DefaultProgressDeadline, `spec.rollout.progressDeadline: Invalid value: "soon": must be a duration`},
	} {
		app, err := ParseApplication([]byte(header + "spec:\n  components: [{name: w, type: worker, properties: {image: x}}]\n  " + tt.rollout + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", tt.rollout, err)
		}
		if got := app.ProgressDeadline(); got != tt.want {
			t.Errorf("%s: ProgressDeadline() = %s, want %s", tt.rollout, got, tt.want)
		}
		err = app.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.rollout, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want %q", tt.rollout, err, tt.wantErr)
		}
	}
}
