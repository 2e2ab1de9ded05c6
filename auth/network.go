package auth

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/portico-gw/portico/reqctx"
)

// NetworkFunc returns the source-network labels of a request: names the
// embedding application gives its listeners or address ranges ("office",
// "vpce-0a1b2c"), which private endpoints ([Guard.Networks]) and the
// aws:SourceVpc and aws:SourceVpce policy conditions match. It must be safe
// for concurrent use and must not modify the request.
type NetworkFunc func(r *http.Request) []string

type networksKey struct{}

// LabelNetworks returns a handler that gives every request it serves the
// labels before calling h, for [ContextNetworks] to read: wrap the handler
// of one listener (the gateway itself, say) to label everything arriving
// on it.
//
//	go http.Serve(officeListener, auth.LabelNetworks(gw, "office"))
//	go http.Serve(publicListener, gw)
func LabelNetworks(h http.Handler, labels ...string) http.Handler {
	labels = slices.Clone(labels)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if have := networksFrom(r.Context()); have != nil {
			merged := slices.Concat(have, labels)
			r = r.WithContext(context.WithValue(r.Context(), networksKey{}, merged))
		} else {
			r = r.WithContext(context.WithValue(r.Context(), networksKey{}, labels))
		}
		h.ServeHTTP(w, r)
	})
}

// ContextNetworks is the [NetworkFunc] that returns the labels
// [LabelNetworks] gave the request (nil if none).
func ContextNetworks(r *http.Request) []string { return networksFrom(r.Context()) }

func networksFrom(ctx context.Context) []string {
	l, _ := ctx.Value(networksKey{}).([]string)
	return l
}

// CIDRNetworks returns a [NetworkFunc] that labels a request by its source
// address (the request context's Identity.SourceIP, else RemoteAddr): a
// request gets every label one of whose ranges holds the address. Ranges
// are IPv4 or IPv6 CIDRs or single addresses; a malformed one is an error.
//
//	nets, err := auth.CIDRNetworks(map[string][]string{
//		"office": {"203.0.113.0/24", "2001:db8:1::/48"},
//		"vpn":    {"10.8.0.0/16"},
//	})
func CIDRNetworks(ranges map[string][]string) (NetworkFunc, error) {
	type entry struct {
		label  string
		prefix netip.Prefix
	}
	var entries []entry
	for _, label := range slices.Sorted(maps.Keys(ranges)) {
		if label == "" {
			return nil, fmt.Errorf("auth: CIDRNetworks: empty label")
		}
		for _, s := range ranges[label] {
			p, err := parsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("auth: CIDRNetworks: label %q: %w", label, err)
			}
			entries = append(entries, entry{label, p})
		}
	}
	return func(r *http.Request) []string {
		src := ""
		if rc := reqctx.From(r.Context()); rc != nil {
			src = rc.Identity.SourceIP
		}
		if src == "" {
			src = remoteIP(r.RemoteAddr)
		}
		a, err := netip.ParseAddr(src)
		if err != nil {
			return nil
		}
		a = a.Unmap()
		var out []string
		for _, e := range entries {
			if e.prefix.Contains(a) && !slices.Contains(out, e.label) {
				out = append(out, e.label)
			}
		}
		return out
	}, nil
}

// JoinNetworks returns a [NetworkFunc] giving the labels of every f, in
// order, without duplicates.
func JoinNetworks(fs ...NetworkFunc) NetworkFunc {
	fs = slices.Clone(fs)
	return func(r *http.Request) []string {
		var out []string
		for _, f := range fs {
			for _, l := range f(r) {
				if !slices.Contains(out, l) {
					out = append(out, l)
				}
			}
		}
		return out
	}
}

// remoteIP returns the host part of a RemoteAddr.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return strings.Trim(addr, "[]")
}
