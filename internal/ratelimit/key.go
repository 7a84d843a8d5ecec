package ratelimit

import (
	"net/netip"
	"strings"
)

// AddressKey is the key every per-client-address limit counts a client address against:
// the address itself for IPv4, its /64 network for IPv6 (one subscriber usually holds a
// whole /64 and can pick any address in it). An IPv4-mapped IPv6 address counts as the
// IPv4 address and a zone is dropped, so one host has one key. A value that is not an
// address (a peer the server could not parse) is its own key.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// EmailKey is the key every per-e-mail-address limit counts an address against: the
// lookup form (case folded, as auth.ValidateEmail returns it) without a "+tag" in the local
// part, so alice+1@example.com and Alice@EXAMPLE.com count as one address.
func EmailKey(normalized string) string {
	at := strings.LastIndexByte(normalized, '@')
	if at < 0 {
		return normalized
	}
	local, domain := normalized[:at], normalized[at:]
	if plus := strings.IndexByte(local, '+'); plus >= 0 {
		local = local[:plus]
	}
	return local + domain
}
