package gitinfo

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/config"
	format "github.com/go-git/go-git/v5/plumbing/format/config"
)

// ErrCertificate means an HTTPS remote's certificate was not trusted (an
// unknown authority, another host's name, expired), by go-git with the CA
// git is configured with and, when present, by the git binary.
// The error PushTag returns has a Hint method naming git's CA settings.
var ErrCertificate = errors.New("remote's TLS certificate not trusted")

// isCertificateError reports whether err is a failed verification of the
// server's certificate, which the git binary may get past with
// configuration go-git does not read (http.sslCAPath, http.sslVerify,
// GIT_SSL_NO_VERIFY, an included config file).
func isCertificateError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// caBundle returns the contents of the CA file git would verify rawURL's
// server with, nil for anything but https:// or when none is configured
// (the system's roots then apply, SSL_CERT_FILE and SSL_CERT_DIR
// included). As git: GIT_SSL_CAINFO, else the most specific
// http.<url>.sslCAInfo, else http.sslCAInfo, from the system, global and
// repository configuration. go-git adds it to the system's roots where git
// would use it alone; trusting the system's CAs as well is harmless.
func (r *Repo) caBundle(rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" {
		return nil, nil
	}
	file, source := os.Getenv("GIT_SSL_CAINFO"), "GIT_SSL_CAINFO"
	if file == "" {
		configs, err := r.gitConfigs()
		if err != nil {
			return nil, err
		}
		file = httpConfig(configs, u, "sslCAInfo")
		source = "http.sslCAInfo"
	}
	if file == "" {
		return nil, nil
	}
	file = expandPath(file, r.root)
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle %s names: %w", source, err)
	}
	return pem, nil
}

// gitConfigs reads git's configuration files in the order git applies
// them (system, global, repository), skipping missing ones and honouring
// GIT_CONFIG_NOSYSTEM, GIT_CONFIG_SYSTEM and GIT_CONFIG_GLOBAL. Includes
// and GIT_CONFIG_COUNT are not followed: what they set reaches the git
// binary, which a certificate failure hands the push to. The caller holds
// r.mu.
func (r *Repo) gitConfigs() ([]*format.Config, error) {
	var files []string
	if nosys, _ := strconv.ParseBool(os.Getenv("GIT_CONFIG_NOSYSTEM")); !nosys {
		if f, ok := os.LookupEnv("GIT_CONFIG_SYSTEM"); ok {
			files = append(files, f)
		} else {
			files = append(files, "/etc/gitconfig")
		}
	}
	if f, ok := os.LookupEnv("GIT_CONFIG_GLOBAL"); ok {
		files = append(files, f)
	} else {
		xdg := os.Getenv("XDG_CONFIG_HOME")
		home, _ := os.UserHomeDir()
		if xdg == "" && home != "" {
			xdg = filepath.Join(home, ".config")
		}
		if xdg != "" {
			files = append(files, filepath.Join(xdg, "git", "config"))
		}
		if home != "" {
			files = append(files, filepath.Join(home, ".gitconfig"))
		}
	}
	var configs []*format.Config
	for _, name := range files {
		if name == "" || name == os.DevNull {
			continue
		}
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading git config: %w", err)
		}
		cfg, err := config.ReadConfig(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading git config %s: %w", name, err)
		}
		configs = append(configs, cfg.Raw)
	}
	local, err := r.storage.Config()
	if err != nil {
		return nil, fmt.Errorf("reading git config: %w", err)
	}
	return append(configs, local.Raw), nil
}

// httpConfig returns the value git uses for http.<key> when talking to u:
// the http.<url>.<key> whose URL matches u best (the longest host pattern,
// then the longest path, then a user given), else http.<key>; between
// equals the later one, as git's urlmatch.
func httpConfig(configs []*format.Config, u *url.URL, key string) string {
	var (
		value string
		best  = urlMatch{host: -1}
	)
	for _, cfg := range configs {
		for _, s := range cfg.Sections {
			if !s.IsName("http") {
				continue
			}
			if s.Options.Has(key) && !best.better(urlMatch{}) {
				value, best = s.Options.Get(key), urlMatch{}
			}
			for _, sub := range s.Subsections {
				if !sub.Options.Has(key) {
					continue
				}
				m, ok := matchURL(sub.Name, u)
				if ok && !best.better(m) {
					value, best = sub.Options.Get(key), m
				}
			}
		}
	}
	return value
}

// urlMatch is how well a config URL matches: git's urlmatch_item.
type urlMatch struct {
	host, path int // matched lengths; host -1: nothing matched yet
	user       bool
}

// better reports whether m beats o.
func (m urlMatch) better(o urlMatch) bool {
	if m.host != o.host {
		return m.host > o.host
	}
	if m.path != o.path {
		return m.path > o.path
	}
	return m.user && !o.user
}

// matchURL matches the URL of an http.<url>.* section against u as git
// does: same scheme, host (a "*" label matches any one label), port and,
// when the section names one, user; its path a prefix of u's at a "/".
func matchURL(pattern string, u *url.URL) (urlMatch, bool) {
	p, err := url.Parse(pattern)
	if err != nil || !strings.EqualFold(p.Scheme, u.Scheme) || p.Host == "" {
		return urlMatch{}, false
	}
	if port(p) != port(u) || !matchHost(strings.ToLower(p.Hostname()), strings.ToLower(u.Hostname())) {
		return urlMatch{}, false
	}
	m := urlMatch{host: len(p.Hostname())}
	if p.User != nil {
		if u.User == nil || u.User.Username() != p.User.Username() {
			return urlMatch{}, false
		}
		m.user = true
	}
	want := strings.TrimSuffix(p.Path, "/")
	have := u.Path
	if want != "" && have != want && !strings.HasPrefix(have, want+"/") {
		return urlMatch{}, false
	}
	m.path = len(want) + 1
	return m, true
}

// port is u's port, or its scheme's default.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// matchHost matches host against pattern, label by label, "*" matching
// any one label.
func matchHost(pattern, host string) bool {
	if net.ParseIP(host) != nil || !strings.Contains(pattern, "*") {
		return pattern == host
	}
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if pl[i] != "*" && pl[i] != hl[i] {
			return false
		}
	}
	return true
}

// expandPath resolves a path from git's configuration as git does for
// pathname values: "~/" is the home directory; a relative path is taken
// from dir (where git runs).
func expandPath(p, dir string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p
}
