package gitinfo

import (
	"net/url"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/config"
	format "github.com/go-git/go-git/v5/plumbing/format/config"
)

// TestHTTPConfig pins git's urlmatch rules for http.<url>.sslCAInfo: the
// scheme, host and port must match, a path only at a "/", a user only
// when the URL has it; the longest host, then path, then a user wins; the
// later of equals wins (system, global, repository order).
func TestHTTPConfig(t *testing.T) {
	tests := []struct {
		name    string
		configs []string
		url     string
		want    string
	}{
		{"plain key", []string{"[http]\n\tsslCAInfo = plain"}, "https://git.example/team/app.git", "plain"},
		{"nothing set", []string{"[http]\n\tsslVerify = true"}, "https://git.example/app.git", ""},
		{"a URL key beats the plain one", []string{`[http "https://git.example"]
	sslCAInfo = host
[http]
	sslCAInfo = plain`}, "https://git.example/app.git", "host"},
		{"the longest path wins", []string{`[http "https://git.example/team/app.git"]
	sslCAInfo = repo
[http "https://git.example/team/"]
	sslCAInfo = team
[http "https://git.example/"]
	sslCAInfo = host`}, "https://git.example/team/app.git", "repo"},
		{"a path matches at a slash only", []string{`[http "https://git.example/team/app"]
	sslCAInfo = app
[http "https://git.example/team"]
	sslCAInfo = team`}, "https://git.example/team/app.git", "team"},
		{"a user beats no user", []string{`[http "https://ci@git.example/"]
	sslCAInfo = user
[http "https://git.example/"]
	sslCAInfo = host`}, "https://ci@git.example/app.git", "user"},
		{"another user does not match", []string{`[http "https://bot@git.example/"]
	sslCAInfo = bot
[http]
	sslCAInfo = plain`}, "https://ci@git.example/app.git", "plain"},
		{"a wildcard host label", []string{`[http "https://*.example"]
	sslCAInfo = wild`}, "https://git.example/app.git", "wild"},
		{"a wildcard is one label", []string{`[http "https://*.example"]
	sslCAInfo = wild`}, "https://a.git.example/app.git", ""},
		{"the default port", []string{`[http "https://git.example:443"]
	sslCAInfo = port`}, "https://git.example/app.git", "port"},
		{"another port", []string{`[http "https://git.example:8443"]
	sslCAInfo = port`}, "https://git.example/app.git", ""},
		{"another scheme", []string{`[http "http://git.example"]
	sslCAInfo = http`}, "https://git.example/app.git", ""},
		{"the later file wins between equals", []string{
			"[http \"https://git.example\"]\n\tsslCAInfo = global",
			"[http \"https://git.example\"]\n\tsslCAInfo = repo",
		}, "https://git.example/app.git", "repo"},
		{"a more specific key in an earlier file wins", []string{
			"[http \"https://git.example/app.git\"]\n\tsslCAInfo = global",
			"[http]\n\tsslCAInfo = repo",
		}, "https://git.example/app.git", "global"},
		{"keys are case-insensitive", []string{"[HTTP]\n\tSSLCAINFO = upper"}, "https://git.example/app.git", "upper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var configs []*format.Config
			for _, text := range tt.configs {
				cfg, err := config.ReadConfig(strings.NewReader(text))
				if err != nil {
					t.Fatal(err)
				}
				configs = append(configs, cfg.Raw)
			}
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := httpConfig(configs, u, "sslCAInfo"); got != tt.want {
				t.Errorf("httpConfig(%s) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}
