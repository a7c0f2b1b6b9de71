package app

import (
	"strings"
	"testing"
)

func TestValidateClusterDomain(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{args: []string{"--data-dir=/tmp/x"}},
		{args: []string{"--data-dir=/tmp/x", "--cluster-domain=corp.internal"}},
		{args: []string{"--data-dir=/tmp/x", "--cluster-domain=Cluster_Local"}, wantErr: `--cluster-domain "Cluster_Local"`},
		{args: []string{"--data-dir=/tmp/x", "--cluster-domain="}, wantErr: `--cluster-domain ""`},
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
