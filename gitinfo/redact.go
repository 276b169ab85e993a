package gitinfo

import (
	"net/url"
	"regexp"
	"strings"
)

// userinfoRE matches the credentials part of a URL inside any text:
// "https://user:token@host" keeps "https://" and loses "user:token@".
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@`)

// StripUserinfo returns rawURL without its user and password, for showing or
// recording it. Strings that are not URLs (scp-like "git@host:org/repo")
// are returned unchanged: their user names a login, not a secret.
func StripUserinfo(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil || u.Scheme == "" {
		return userinfoRE.ReplaceAllString(rawURL, "$1")
	}
	u.User = nil
	return u.String()
}

// redact removes URL credentials and the given secrets from s.
func redact(s string, secrets ...string) string {
	s = userinfoRE.ReplaceAllString(s, "$1")
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}
