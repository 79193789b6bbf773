package limiter

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// ClientIP returns how a request's client address is found: the TCP peer,
// unless the peer is one of the trusted proxies (CIDRs, or single
// addresses), then the rightmost address of X-Forwarded-For that is not a
// trusted proxy. With no trusted proxies the header is never read: anyone
// can write it. The same function serves the Socket.IO connection limits
// and echo's RealIP for REST.
func ClientIP(trusted []string) (echo.IPExtractor, error) {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !strings.Contains(t, "/") {
			if ip := net.ParseIP(t); ip != nil && ip.To4() != nil {
				t += "/32"
			} else {
				t += "/128"
			}
		}
		_, ipNet, err := net.ParseCIDR(t)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not a CIDR (e.g. 10.0.0.0/8) or an address", t)
		}
		opts = append(opts, echo.TrustIPRange(ipNet))
	}
	if len(opts) == 3 {
		return echo.ExtractIPDirect(), nil
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// ParseList splits a comma-separated setting.
func ParseList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// requestIP is a request's client address, or "" when unknown.
func requestIP(extract echo.IPExtractor, r *http.Request) string {
	if r == nil {
		return ""
	}
	return extract(r)
}
