package registry

import (
	"errors"
	"strings"
	"testing"
)

// TestParseReferenceHidesCredentials: a reference typed with URL-style
// credentials is refused without quoting them, and with a hint; digests and
// ordinary references are not mistaken for credentials.
func TestParseReferenceHidesCredentials(t *testing.T) {
	for _, s := range []string{
		"bob:hunter22@127.0.0.1:5000/app:1",
		"bob:hunter22@example.com/team/app",
		"token-abc123@ghcr.example/app@sha256:" + strings.Repeat("a", 64),
	} {
		_, err := parseReference(s, "latest")
		if !errors.Is(err, ErrInvalidReference) {
			t.Errorf("parseReference(%q) = %v, want ErrInvalidReference", s, err)
			continue
		}
		if strings.Contains(err.Error(), "hunter22") || strings.Contains(err.Error(), "token-abc123") {
			t.Errorf("parseReference(%q): the error shows the credentials: %v", s, err)
		}
		var h interface{ Hint() string }
		if !errors.As(err, &h) || !strings.Contains(h.Hint(), "docker login") {
			t.Errorf("parseReference(%q): no docker login hint in %v", s, err)
		}
	}
	for _, s := range []string{
		"127.0.0.1:5000/app:1",
		"example.com/team/app@sha256:" + strings.Repeat("b", 64),
		"app@sha256:" + strings.Repeat("c", 64),
		"localhost:5000/app",
	} {
		if _, err := parseReference(s, "latest"); err != nil {
			t.Errorf("parseReference(%q) = %v, want it accepted", s, err)
		}
	}
}
