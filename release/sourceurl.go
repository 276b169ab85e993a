package release

import (
	"net/url"
	"strings"

	"github.com/releasetool/release/gitinfo"
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
	if !gitinfo.ValidURLHost(host) {
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

func isControlOrSpace(r rune) bool {
	return r <= ' ' || r == 0x7f
}
