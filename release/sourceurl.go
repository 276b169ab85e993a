package release

import (
	"net"
	"net/url"
	"strings"
)

// SourceURL turns a git remote URL into the https address a person can open
// in a browser, for the org.opencontainers.image.source label.
//
//	git@host:org/repo.git                 → https://host/org/repo
//	ssh://git@host:22/org/repo.git        → https://host/org/repo
//	https://user:TOKEN@host/org/repo.git  → https://host/org/repo
//	http://host:8080/org/repo             → http://host:8080/org/repo
//
// Credentials, query and fragment never survive: a remote that carries a token
// must not leak it into an image label that anyone who pulls the image can
// read. The ssh port is dropped (it is not the port of the web server); an
// explicit http(s) port is kept. A remote with no web counterpart (git://,
// file://, a local path, anything unparsable) gives "": no source label is
// better than a wrong one.
func SourceURL(remote string) string {
	remote = strings.TrimSpace(remote)
	if remote == "" || strings.ContainsFunc(remote, isControlOrSpace) {
		return ""
	}
	var scheme, host, path string
	if i := strings.Index(remote, "://"); i >= 0 {
		u, err := url.Parse(remote)
		if err != nil || u.Opaque != "" {
			return ""
		}
		switch strings.ToLower(u.Scheme) {
		case "https", "http":
			scheme, host = strings.ToLower(u.Scheme), u.Host
		case "ssh", "git+ssh", "ssh+git":
			// The browse address is https on the same host; the ssh port
			// means nothing to the web server.
			scheme, host = "https", u.Hostname()
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
		default:
			// git://, file://, and transports with no web counterpart.
			return ""
		}
		path = u.Path
	} else {
		h, p, ok := splitSCPLike(remote)
		if !ok {
			return ""
		}
		scheme, host, path = "https", h, p
	}
	host = strings.ToLower(host)
	if !validURLHost(host) {
		return ""
	}
	path = strings.TrimRight(path, "/")
	path = strings.TrimSuffix(path, ".git")
	path = strings.TrimRight(path, "/")
	path = "/" + strings.TrimLeft(path, "/")
	if path == "/" || strings.Contains(path, "@") {
		// Without a path there is no repository to point at. An "@" in
		// what should be org/repo hints at a mangled URL whose userinfo
		// we did not recognise; refusing it is the safe side.
		return ""
	}
	for _, seg := range strings.Split(path[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return ""
		}
	}
	u := url.URL{Scheme: scheme, Host: host, Path: path}
	return u.String()
}

// splitSCPLike splits git's scp-like syntax, [user@]host:path, the way git
// does: it is scp-like when a colon comes before any slash. A single letter
// before the colon is a Windows drive, not a host.
func splitSCPLike(remote string) (host, path string, ok bool) {
	colon := strings.Index(remote, ":")
	if colon < 0 {
		return "", "", false
	}
	if slash := strings.Index(remote, "/"); slash >= 0 && slash < colon {
		// An IPv6 literal in brackets is the one case where the colon
		// search above is wrong; it cannot contain a slash either way.
		return "", "", false
	}
	if at := strings.Index(remote, "@["); at >= 0 && at < colon {
		remote = remote[at+1:]
	}
	if strings.HasPrefix(remote, "[") {
		end := strings.Index(remote, "]:")
		if end < 0 {
			return "", "", false
		}
		return remote[:end+1], remote[end+2:], true
	}
	hostPart, path := remote[:colon], remote[colon+1:]
	if at := strings.LastIndex(hostPart, "@"); at >= 0 {
		hostPart = hostPart[at+1:]
	}
	if at := strings.Index(remote, "@"); at > colon {
		// user@ after the colon: not scp syntax (an odd local path).
		return "", "", false
	}
	if len(hostPart) < 2 {
		return "", "", false
	}
	path = strings.TrimPrefix(path, "~")
	return hostPart, path, true
}

// validURLHost accepts a DNS name or IP address with an optional port: the
// characters a real host has, nothing that could smuggle more into a label.
func validURLHost(hostport string) bool {
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

// RedactURL removes the password (or token) from any URL in s, keeping the
// user name so a person can still tell which identity was used. It is applied
// to everything that may echo a remote URL: errors, docker's stderr, logs.
func RedactURL(s string) string {
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
		if at := userinfoEnd(u); at >= 0 {
			user := u[:at]
			if c := strings.Index(user, ":"); c >= 0 {
				user = user[:c] + ":xxxxx"
			} else if user != "" {
				// A lone token in the user position (https://TOKEN@host)
				// is as secret as a password.
				user = "xxxxx"
			}
			u = user + u[at:]
		}
		b.WriteString(u)
		s = rest[end:]
	}
}

// userinfoEnd is the index of the "@" that ends the userinfo of u (a URL
// without its scheme://), or -1 when u has none. The authority normally ends
// at the first "/", "?" or "#", but a password pasted unencoded may hold one
// (https://user:p#ss@host/org/repo): git and curl then read another host,
// yet the text is still a secret. So when the first such character comes
// before any "@", a later "@" still ends the userinfo when that character is
// "?" or "#", or what precedes it cannot be a host (user:password, or
// characters no host has); a plain host and "/" mean the "@" is in the path
// (git+https://host/org/pkg@v1 in pip's output). The last "@" is taken, so no part of a password that
// holds an "@" of its own is shown.
func userinfoEnd(u string) int {
	delim := strings.IndexAny(u, "/?#")
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
		// host?…@… or host#…@…: a query or fragment right after a bare
		// host is far rarer than a token holding "?" or "#".
		return at
	}
	if head := u[:delim]; strings.Contains(head, ":") || !validURLHost(strings.ToLower(head)) {
		return at
	}
	// A lone token holding a "/" (https://ab/cd@host) cannot be told from
	// a host and a path here; git reads it as host "ab" too.
	return -1
}
