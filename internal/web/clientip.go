package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many X-Forwarded-For entries are examined.
const maxForwardedHops = 20

// proxies are the networks whose X-Forwarded-For is believed (server.trusted_proxies).
type proxies []netip.Prefix

func (p proxies) trusted(a netip.Addr) bool {
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr returns the address of the client that sent r. When the connection comes from
// an untrusted peer, that peer is the client and X-Forwarded-For is ignored. When it comes
// from a trusted proxy, the X-Forwarded-For entries are walked from the right (the ones the
// proxies appended) to the first address that is not itself a trusted proxy. A malformed
// entry, or more than maxForwardedHops, ends the walk at the last address believed so far:
// junk is ignored and can never choose the answer, which is always the peer or an address a
// trusted proxy wrote. ok is false when the peer address itself cannot be parsed.
func (p proxies) clientAddr(r *http.Request) (addr netip.Addr, ok bool) {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok || len(p) == 0 || !p.trusted(peer) {
		return peer, ok
	}
	client := peer
	// Every line's entries, the last line's last entry first, read in place (no list of
	// them is made).
	lines := r.Header.Values("X-Forwarded-For")
	n := 0
walk:
	for i := len(lines) - 1; i >= 0; i-- {
		for line, more := lines[i], true; more; {
			if n == maxForwardedHops {
				break walk
			}
			n++
			c := strings.LastIndexByte(line, ',')
			var hop string
			hop, line, more = line[c+1:], line[:max(c, 0)], c >= 0
			a, ok := parseHop(hop)
			if !ok {
				break walk
			}
			client = a
			if !p.trusted(a) {
				break walk
			}
		}
	}
	return client, true
}

// parseHop reads an address as it appears in RemoteAddr or X-Forwarded-For: "192.0.2.1",
// "192.0.2.1:1234", "2001:db8::1" or "[2001:db8::1]:1234". IPv4-mapped IPv6 addresses are
// unmapped and zones dropped, so one host has one form.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	// An address with a port has one colon (IPv4) or starts with '[' (IPv6), and an
	// address without one never does: each form goes straight to its parser, as a failed
	// parse allocates its error.
	if strings.Count(s, ":") == 1 || s[0] == '[' {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		return ap.Addr().Unmap().WithZone(""), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// clientIP is the client address of r as the audit log and the rate limits see it: the one
// the guard middleware resolved (trusting server.trusted_proxies), else the peer's host.
func clientIP(r *http.Request) string {
	if st := stateOf(r); st != nil && st.ip != "" {
		return st.ip
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}
