package web

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:1::/48")}
	for _, tc := range []struct {
		name    string
		peer    string
		xff     []string // X-Forwarded-For header lines
		want    string
		proxies proxies
	}{
		{name: "no_proxy_configured_ignores_the_header", peer: "198.51.100.7:4000", xff: []string{"203.0.113.9"}, want: "198.51.100.7", proxies: proxies{}},
		{name: "untrusted_peer_is_the_client", peer: "198.51.100.7:4000", xff: []string{"203.0.113.9"}, want: "198.51.100.7"},
		{name: "untrusted_peer_cannot_claim_a_trusted_address", peer: "198.51.100.7:4000", xff: []string{"10.0.0.1"}, want: "198.51.100.7"},
		{name: "trusted_peer_is_believed", peer: "10.0.0.2:4000", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "trusted_peer_without_header_is_the_client", peer: "10.0.0.2:4000", want: "10.0.0.2"},
		{name: "right-most_untrusted_entry_wins_over_spoofed_ones", peer: "10.0.0.2:4000", xff: []string{"1.1.1.1, 2.2.2.2, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "chain_of_trusted_proxies_is_skipped", peer: "10.0.0.2:4000", xff: []string{"1.1.1.1, 203.0.113.9, 10.0.0.7, 10.0.0.8"}, want: "203.0.113.9"},
		{name: "several_header_lines_are_one_list", peer: "10.0.0.2:4000", xff: []string{"1.1.1.1", "203.0.113.9, 10.0.0.7"}, want: "203.0.113.9"},
		{name: "all_trusted_gives_the_left-most", peer: "10.0.0.2:4000", xff: []string{"10.1.1.1, 10.0.0.7"}, want: "10.1.1.1"},
		{name: "junk_is_ignored", peer: "10.0.0.2:4000", xff: []string{"junk"}, want: "10.0.0.2"},
		{name: "junk_left_of_the_client_is_never_reached", peer: "10.0.0.2:4000", xff: []string{"junk, <script>, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "junk_right_of_a_claim_stops_the_walk", peer: "10.0.0.2:4000", xff: []string{"203.0.113.9, unknown"}, want: "10.0.0.2"},
		{name: "empty_entries_stop_the_walk", peer: "10.0.0.2:4000", xff: []string{"203.0.113.9,,"}, want: "10.0.0.2"},
		{name: "empty_header", peer: "10.0.0.2:4000", xff: []string{""}, want: "10.0.0.2"},
		{name: "hostname_is_junk", peer: "10.0.0.2:4000", xff: []string{"evil.example"}, want: "10.0.0.2"},
		{name: "CIDR_is_junk", peer: "10.0.0.2:4000", xff: []string{"0.0.0.0/0"}, want: "10.0.0.2"},
		{name: "overlong_entry_is_junk", peer: "10.0.0.2:4000", xff: []string{strings.Repeat("1", 100)}, want: "10.0.0.2"},
		{name: "address_with_port", peer: "10.0.0.2:4000", xff: []string{"203.0.113.9:5555"}, want: "203.0.113.9"},
		{name: "IPv6_in_brackets_with_port", peer: "10.0.0.2:4000", xff: []string{"[2001:db8:2::5]:443"}, want: "2001:db8:2::5"},
		{name: "IPv6_peer_and_client", peer: "[2001:db8:1::1]:4000", xff: []string{"2001:db8:2::5"}, want: "2001:db8:2::5"},
		{name: "IPv4-mapped_IPv6_is_unmapped", peer: "[::ffff:10.0.0.2]:4000", xff: []string{"::ffff:203.0.113.9"}, want: "203.0.113.9"},
		{name: "zone_is_dropped", peer: "10.0.0.2:4000", xff: []string{"fe80::1%eth0"}, want: "fe80::1"},
		{name: "spaces_around_entries", peer: "10.0.0.2:4000", xff: []string{"  203.0.113.9  ,  10.0.0.7 "}, want: "203.0.113.9"},
		{name: "more_than_20_trusted_hops_stop_at_the_20th", peer: "10.0.0.2:4000",
			xff: []string{"203.0.113.9, " + strings.Repeat("10.0.0.9, ", 19) + "10.0.0.1"}, want: "10.0.0.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			p := trusted
			if tc.proxies != nil {
				p = tc.proxies
			}
			got, ok := p.clientAddr(r)
			if !ok || got.String() != tc.want {
				t.Fatalf("clientAddr = %v (ok=%v), want %s", got, ok, tc.want)
			}
		})
	}
}

func TestClientAddrUnparsablePeer(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "@pipe"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if _, ok := (proxies{netip.MustParsePrefix("0.0.0.0/0")}).clientAddr(r); ok {
		t.Fatal("an unparsable peer address was resolved")
	}
	if got := clientIP(r); got != "@pipe" {
		t.Fatalf("clientIP without the middleware = %q, want the raw peer", got)
	}
}

// FuzzClientAddr feeds arbitrary peers and X-Forwarded-For values: the answer is always the
// peer or an address that appears in the header, and with an untrusted peer always the peer.
func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"", "203.0.113.9", "1.1.1.1, 10.0.0.1", "junk", "[::1]:80, ::ffff:1.2.3.4", "fe80::1%eth0", ",,,", "10.0.0.1,10.0.0.2,10.0.0.3"} {
		f.Add("10.0.0.2:4000", s)
		f.Add("198.51.100.7:1", s)
	}
	trusted := proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		got, ok := trusted.clientAddr(r)
		p, pok := parseHop(peer)
		if ok != pok {
			t.Fatalf("ok=%v for peer %q that parses: %v", ok, peer, pok)
		}
		if !ok {
			return
		}
		if !trusted.trusted(p) && got != p {
			t.Fatalf("untrusted peer %q with X-Forwarded-For %q gave %v", peer, xff, got)
		}
		if got != p {
			found := false
			for _, h := range strings.Split(xff, ",") {
				if a, ok := parseHop(h); ok && a == got {
					found = true
				}
			}
			if !found {
				t.Fatalf("answer %v is neither the peer %q nor in %q", got, peer, xff)
			}
		}
	})
}
