package gitinfo

import (
	"net/url"
	"testing"
)

// TestTokenUser pins the one rule both pushes (go-git's basic auth and the
// git binary's Authorization header) use for the user sent with a token.
func TestTokenUser(t *testing.T) {
	tests := []struct {
		name, rawURL, username, want string
	}{
		{"Username wins over the URL's user", "https://bot@git.example/app.git", "gitlab-ci-token", "gitlab-ci-token"},
		{"the URL's user", "https://bot:pw@git.example/app.git", "", "bot"},
		{"neither", "https://git.example/app.git", "", defaultTokenUser},
		{"empty user in the URL", "https://:pw@git.example/app.git", "", defaultTokenUser},
		{"not a URL", "", "", defaultTokenUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u *url.URL
			if tt.rawURL != "" {
				var err error
				if u, err = url.Parse(tt.rawURL); err != nil {
					t.Fatal(err)
				}
			}
			if got := tokenUser(u, PushOptions{Token: "tok", Username: tt.username}); got != tt.want {
				t.Errorf("tokenUser(%q, %q) = %q, want %q", tt.rawURL, tt.username, got, tt.want)
			}
		})
	}
}

// TestIsSSH pins which remotes get the SSH treatment (a failed go-git
// connection hands the push to the git binary), with git's rules for
// telling scp-like addresses from paths.
func TestIsSSH(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"ssh://git@git.example/team/app.git", true},
		{"ssh://git.example:2222/app.git", true},
		{"SSH://git.example/app.git", true},
		{"git+ssh://git@git.example/app.git", true},
		{"ssh+git://git@git.example/app.git", true},
		{"git@github.com:team/app.git", true},
		{"git.example:team/app.git", true},
		{"git@git.example:app.git", true},
		{"https://git.example/app.git", false},
		{"http://user:pw@git.example/app.git", false},
		{"file:///srv/git/app.git", false},
		{"git://git.example/app.git", false},
		{"/srv/git/app.git", false},
		{"./dir:with/colon.git", false},
		{"../app.git", false},
		{"app.git", false},
		{`C:\repos\app.git`, false},
		{"c:/repos/app.git", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := isSSH(tt.url); got != tt.want {
				t.Errorf("isSSH(%q) = %v, want %v", tt.url, got, tt.want)
			}
		})
	}
}
