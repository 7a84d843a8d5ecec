package cli

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"testing"
)

// TestServeMountsOIDC: serve announces the provider with the issuer from
// server.public_url, or its own address for local use.
func TestServeMountsOIDC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).AddrPort().Port()
	ln.Close()
	for _, tc := range []struct{ name, addr, publicURL, want string }{
		{"issuer from the listen address", "127.0.0.1:0", "", ""},
		{"issuer from public_url", net.JoinHostPort("127.0.0.1", itoa(port)), "http://localhost:" + itoa(port) + "/",
			"http://localhost:" + itoa(port)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Server.Addr, cfg.Server.PublicURL = tc.addr, tc.publicURL
			s := startServe(t, cfg)
			listen := s.base
			if tc.publicURL != "" {
				listen = "http://" + tc.addr
			}
			resp, err := http.Get(listen + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var d struct {
				Issuer string `json:"issuer"`
				Token  string `json:"token_endpoint"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("discovery: %d %v", resp.StatusCode, err)
			}
			want := tc.want
			if want == "" {
				want = s.base
			}
			if d.Issuer != want || d.Token != want+"/oauth/token" {
				t.Errorf("issuer %q, token endpoint %q; want issuer %q", d.Issuer, d.Token, want)
			}
		})
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }
