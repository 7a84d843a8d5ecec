package web

import (
	"context"
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
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i, n := len(hops)-1, 0; i >= 0 && n < maxForwardedHops; i, n = i-1, n+1 {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !p.trusted(a) {
			break
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
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

type ctxKey int

const clientIPKey ctxKey = iota

// withClientIP stores the client address on the request, for meta and the rate limits.
func withClientIP(r *http.Request, ip string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), clientIPKey, ip))
}

// clientIP is the client address of r as the audit log and the rate limits see it: the one
// the guard middleware resolved (trusting server.trusted_proxies), else the peer's host.
func clientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey).(string); ok {
		return ip
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}
