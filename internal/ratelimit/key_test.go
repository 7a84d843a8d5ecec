package ratelimit

import "testing"

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ name, ip, want string }{
		{"IPv4 is the address", "192.0.2.7", "192.0.2.7"},
		{"IPv4 neighbours differ", "192.0.2.8", "192.0.2.8"},
		{"IPv6 is the /64", "2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"anywhere in the /64", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"the next /64 differs", "2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"IPv4-mapped is IPv4", "::ffff:192.0.2.7", "192.0.2.7"},
		{"zone dropped", "fe80::1%eth0", "fe80::/64"},
		{"not an address", "junk", "junk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AddressKey(tc.ip); got != tc.want {
				t.Errorf("AddressKey(%q) = %q, want %q", tc.ip, got, tc.want)
			}
		})
	}
}

func TestEmailKey(t *testing.T) {
	for _, tc := range []struct{ name, email, want string }{
		{"plain", "alice@example.com", "alice@example.com"},
		{"tag dropped", "alice+1@example.com", "alice@example.com"},
		{"only the first plus counts", "alice+a+b@example.com", "alice@example.com"},
		{"plus in the domain stays", "alice@ex+ample.com", "alice@ex+ample.com"},
		{"not an address", "alice", "alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EmailKey(tc.email); got != tc.want {
				t.Errorf("EmailKey(%q) = %q, want %q", tc.email, got, tc.want)
			}
		})
	}
}
