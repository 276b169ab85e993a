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
