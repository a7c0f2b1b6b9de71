package app

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{args: nil},
		{args: []string{"--gc-percent=-1"}},
		{args: []string{"--gc-percent=200"}},
		{args: []string{"--gc-percent=0"}, wantErr: "--gc-percent must be positive or -1, got 0"},
		{args: []string{"--gc-percent=-5"}, wantErr: "--gc-percent must be positive or -1, got -5"},
		{args: []string{"--workers=0"}, wantErr: "--workers must be at least 1, got 0"},
		{args: []string{"--tenant-qps=0"}, wantErr: "--tenant-qps must be positive, got 0"},
		{args: []string{"--token-lifetime=5m"}, wantErr: "--token-lifetime must be whole seconds and at least 10m"},
		{args: []string{"--platform-namespace=Not_A_Name"}, wantErr: `--platform-namespace "Not_A_Name"`},
		{args: []string{"--cluster-domain=corp.internal"}},
		{args: []string{"--cluster-domain=Cluster_Local"}, wantErr: `--cluster-domain "Cluster_Local"`},
		{args: []string{"--cluster-domain="}, wantErr: `--cluster-domain ""`},
		{args: []string{"--kubeconfig-recheck=5s"}},
		{args: []string{"--kubeconfig-recheck=100ms"}, wantErr: "--kubeconfig-recheck must be at least 1s, got 100ms"},
		{args: []string{"--patrol-interval=0s"}, wantErr: "--patrol-interval must be at least 1s, got 0s"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o := &Options{}
			if err := newCommand(o).Flags().Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
