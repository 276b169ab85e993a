package gitinfo

import (
	"net"
	"net/url"
	"strings"
)

// StripUserinfo returns rawURL without its user and password, for showing or
// recording it. Strings that are not URLs (scp-like "git@host:org/repo")
// are returned unchanged: their user names a login, not a secret. A URL
// url.Parse refuses (a password pasted with a raw "/" in it) loses what
// RedactURL would mask.
func StripUserinfo(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil || u.Scheme == "" {
		return rewriteUserinfo(rawURL, func(string) string { return "" })
	}
	u.User = nil
	return u.String()
}

// redact masks URL credentials (RedactURL) and the given secrets in s.
func redact(s string, secrets ...string) string {
	s = RedactURL(s)
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

// RedactURL removes the password (or token) from any URL in s, keeping the
// user name so a person can still tell which identity was used. It is applied
// to everything that may echo a remote URL: errors, docker's stderr, logs.
func RedactURL(s string) string {
	return rewriteUserinfo(s, func(user string) string {
		if c := strings.Index(user, ":"); c >= 0 {
			return user[:c] + ":xxxxx@"
		}
		// A lone token in the user position (https://TOKEN@host) is as
		// secret as a password.
		return "xxxxx@"
	})
}

// rewriteUserinfo replaces the userinfo and its "@" of every URL in s by
// what f makes of the userinfo.
func rewriteUserinfo(s string, f func(userinfo string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		rest := s[i+3:]
		// The URL ends at whitespace or a quote.
		end := strings.IndexFunc(rest, func(r rune) bool {
			return r == '"' || r == '\'' || isControlOrSpace(r)
		})
		if end < 0 {
			end = len(rest)
		}
		u := rest[:end]
		if at := userinfoEnd(u); at > 0 {
			u = f(u[:at]) + u[at+1:]
		}
		b.WriteString(u)
		s = rest[end:]
	}
}

// userinfoEnd is the index of the "@" that ends the userinfo of u (a URL
// without its scheme://), or -1 when u has none. The authority normally ends
// at the first "/", "?" or "#", but a password pasted unencoded may hold any
// of them (https://user:p#ss@host/org/repo): git and curl then read another
// host, yet the text is still a secret. So two readings are taken, the
// authority ending at the first of "/?#" and ending at the first "/", and
// the later "@" of the two wins: more is masked, never less. A password
// holding an "@" before a "/" (u:p@s/w@host) reads as a user at host "s"
// to everyone, git included, and only its part before the "@" is masked.
func userinfoEnd(u string) int {
	return max(userinfoEndAt(u, "/?#"), userinfoEndAt(u, "/"))
}

// userinfoEndAt is userinfoEnd with the authority ending at the first of
// delims. With no "@" before it, a later "@" still ends the userinfo when
// the delimiter is "?" or "#" (a query or fragment right after a bare host
// is far rarer than a token holding one), or what precedes it cannot be a
// host (user:password, or characters no host has); a plain host and "/"
// mean the "@" is in the path (git+https://host/org/pkg@v1 in pip's output).
func userinfoEndAt(u, delims string) int {
	delim := strings.IndexAny(u, delims)
	if delim < 0 {
		delim = len(u)
	}
	if at := strings.LastIndex(u[:delim], "@"); at >= 0 {
		return at
	}
	at := strings.LastIndex(u, "@")
	if at < 0 {
		return -1
	}
	if u[delim] != '/' {
		return at
	}
	if head := u[:delim]; strings.Contains(head, ":") || !ValidURLHost(strings.ToLower(head)) {
		return at
	}
	// A lone token holding a "/" (https://ab/cd@host) cannot be told from
	// a host and a path here; git reads it as host "ab" too.
	return -1
}

// ValidURLHost reports whether hostport is a DNS name (lower case) or an IP
// address, with an optional port: the characters a real host has, nothing
// that could smuggle more into a label or a URL.
func ValidURLHost(hostport string) bool {
	if hostport == "" {
		return false
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.Index(hostport, "]")
		if end < 0 {
			return false
		}
		host, port = hostport[1:end], strings.TrimPrefix(hostport[end+1:], ":")
		if hostport[end+1:] != "" && !strings.HasPrefix(hostport[end+1:], ":") {
			return false
		}
		if net.ParseIP(host) == nil {
			return false
		}
	} else if i := strings.LastIndex(hostport, ":"); i >= 0 {
		host, port = hostport[:i], hostport[i+1:]
		if port == "" {
			return false
		}
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return false
		}
	}
	if len(port) > 5 {
		return false
	}
	if strings.HasPrefix(hostport, "[") {
		return true
	}
	if host == "" || strings.HasPrefix(host, ".") || strings.HasPrefix(host, "-") || strings.HasSuffix(host, "-") {
		return false
	}
	for _, r := range host {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
		default:
			return false
		}
	}
	return !strings.Contains(host, "..")
}

func isControlOrSpace(r rune) bool {
	return r <= ' ' || r == 0x7f
}
