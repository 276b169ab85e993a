package release

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSourceURL(t *testing.T) {
	tests := []struct {
		remote string
		want   string
	}{
		{"git@github.example:org/repo.git", "https://github.example/org/repo"},
		{"git@host:org/repo", "https://host/org/repo"},
		{"git@host:org/repo.git/", "https://host/org/repo"},
		{"host.example:org/repo.git", "https://host.example/org/repo"},
		{"git@host:/srv/org/repo.git", "https://host/srv/org/repo"},
		{"git@host:~user/repo.git", "https://host/user/repo"},
		{"git@Host.Example:Org/Repo.git", "https://host.example/Org/Repo"},
		{"git@[::1]:org/repo.git", "https://[::1]/org/repo"},
		{"ssh://git@host:22/org/repo.git", "https://host/org/repo"},
		{"ssh://git@host:2222/org/repo.git", "https://host/org/repo"},
		{"ssh://host/org/repo", "https://host/org/repo"},
		{"git+ssh://git@host/org/repo.git", "https://host/org/repo"},
		{"ssh://git@[::1]:22/org/repo.git", "https://[::1]/org/repo"},
		{"https://host/org/repo.git", "https://host/org/repo"},
		{"https://host/org/repo", "https://host/org/repo"},
		{"https://host:8443/group/sub/repo.git", "https://host:8443/group/sub/repo"},
		{"HTTPS://HOST/org/repo.git", "https://host/org/repo"},
		{"https://user:TOKEN@host/org/repo.git", "https://host/org/repo"},
		{"https://TOKEN@host/org/repo.git", "https://host/org/repo"},
		{"https://x-access-token:ghs_abc123@host/org/repo", "https://host/org/repo"},
		{"https://host/org/repo.git?private_token=abc#frag", "https://host/org/repo"},
		{"http://127.0.0.1:3000/org/repo.git", "http://127.0.0.1:3000/org/repo"},
		{"  https://host/org/repo.git\n", "https://host/org/repo"},
		// No web counterpart, or not a remote at all: no label.
		{"git://host/org/repo.git", ""},
		{"file:///srv/git/repo.git", ""},
		{"/srv/git/repo.git", ""},
		{"./repo", ""},
		{"../repo.git", ""},
		{`C:\src\repo`, ""},
		{"C:/src/repo", ""},
		{"", ""},
		{"https://host", ""},
		{"https://host/", ""},
		{"https://host/.git", ""},
		{"https://host/org/../repo", ""},
		{"https://ho st/org/repo", ""},
		{"https://user:p#ss@host/org/repo", ""},
		{"git@host:", ""},
		{"git@host:org/repo@evil", ""},
		{"ftp://host/org/repo", ""},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			got := SourceURL(tt.remote)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SourceURL(%q) mismatch (-want +got):\n%s", tt.remote, diff)
			}
		})
	}
}

func FuzzSourceURL(f *testing.F) {
	for _, s := range []string{
		"git@host:org/repo.git",
		"ssh://git@host:22/org/repo.git",
		"https://user:TOKEN@host/org/repo.git",
		"https://TOKEN@host:8443/org/repo",
		"git://host/org/repo.git",
		"/srv/repo.git",
		"git@[::1]:org/repo",
		"http://127.0.0.1:3000/org/repo.git?x=1#y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, remote string) {
		got := SourceURL(remote)
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("SourceURL(%q) = %q, which does not parse: %v", remote, got, err)
		}
		if u.Scheme != "https" && u.Scheme != "http" {
			t.Errorf("SourceURL(%q) = %q: scheme %q", remote, got, u.Scheme)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
			t.Errorf("SourceURL(%q) = %q: userinfo, query, fragment or no host", remote, got)
		}
		if strings.ContainsAny(got, "@ \t\r\n") {
			t.Errorf("SourceURL(%q) = %q: contains '@' or whitespace", remote, got)
		}
		if again := SourceURL(got); again != got {
			t.Errorf("SourceURL not idempotent: %q → %q → %q", remote, got, again)
		}
		// Whatever stood in the userinfo of the input never reaches the output.
		if in, err := url.Parse(strings.TrimSpace(remote)); err == nil && in.User != nil {
			if p, ok := in.User.Password(); ok && len(p) >= 4 && strings.Contains(got, p) {
				t.Errorf("SourceURL(%q) = %q leaks the password", remote, got)
			}
		}
	})
}
