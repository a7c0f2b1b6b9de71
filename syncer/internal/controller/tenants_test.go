package controller

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
)

func TestTenantAPIFor(t *testing.T) {
	for _, tc := range []struct {
		host, serverName string
		want             translate.TenantAPI
		wantErr          string
	}{
		{host: "https://127.0.0.1:6443/tenants/a", serverName: "a.tenants.vcp.local", want: translate.TenantAPI{Host: "a.tenants.vcp.local", IP: "127.0.0.1", Port: "6443"}},
		{host: "https://10.96.0.20", want: translate.TenantAPI{Host: "10.96.0.20", IP: "10.96.0.20", Port: "443"}},
		{host: "https://[fd00::1]:6443", serverName: "a.tenants.vcp.local", want: translate.TenantAPI{Host: "a.tenants.vcp.local", IP: "fd00::1", Port: "6443"}},
		{host: "https://localhost:6443", want: translate.TenantAPI{Host: "localhost", IP: "127.0.0.1", Port: "6443"}},
		{host: "http://127.0.0.1:8080", wantErr: "not an https URL"},
		{host: "https://:6443", wantErr: "not an https URL"},
		{host: "https://no-such-host.invalid:6443", wantErr: "resolve the server's host"},
	} {
		cfg := &rest.Config{Host: tc.host, TLSClientConfig: rest.TLSClientConfig{ServerName: tc.serverName}}
		got, err := tenantAPIFor(context.Background(), cfg)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one with %q", tc.host, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %+v, %v; want %+v", tc.host, got, err, tc.want)
		}
	}
}
