package gitinfotest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestInCI(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"", false},
		{"  ", false},
		{"0", false},
		{"false", false},
		{"FALSE", false},
		{"true", true},
		{"1", true},
		{"yes", true},
		{" true ", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.v), func(t *testing.T) {
			if got := InCI(tt.v); got != tt.want {
				t.Errorf("InCI(%q) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

// recorder is a testing.TB that records how a helper ended the test
// instead of ending it.
type recorder struct {
	testing.TB
	got string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Fatalf(f string, args ...any) { r.got = "fatal: " + fmt.Sprintf(f, args...) }
func (r *recorder) Skip(args ...any)             { r.got = "skip: " + fmt.Sprint(args...) }

// TestMissingFailsUnderCI: a missing git skips a test on a laptop and
// fails it in CI.
func TestMissingFailsUnderCI(t *testing.T) {
	tests := []struct{ ci, want string }{
		{"", "skip: no git"},
		{"false", "skip: no git"},
		{"true", "fatal: CI=true: no git"},
		{"yes", "fatal: CI=yes: no git"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("CI=%q", tt.ci), func(t *testing.T) {
			r := &recorder{TB: t}
			missingFrom(r, tt.ci, "no git")
			if r.got != tt.want {
				t.Errorf("got %q, want %q", r.got, tt.want)
			}
		})
	}
}

// TestHelpersFailUnderCI: the helpers that need git, or git-http-backend,
// fail instead of skipping when CI is set and it is missing.
func TestHelpersFailUnderCI(t *testing.T) {
	// A git with no http-backend next to it.
	bin := t.TempDir()
	fake := "#!/bin/sh\n[ \"$1\" = --exec-path ] && echo " + filepath.Join(bin, "libexec") + "\nexit 0\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		call       func(tb testing.TB)
		want       string
	}{
		{"GitPath, no git", t.TempDir(), func(tb testing.TB) { GitPath(tb) }, "fatal: CI=true: gitinfotest: git binary not found"},
		{"NewHTTPServer, no git-http-backend", bin, func(tb testing.TB) { NewHTTPServer(tb, t.TempDir(), "", "") },
			"fatal: CI=true: gitinfotest: " + filepath.Join(bin, "libexec", "git-http-backend") + " not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			t.Setenv("CI", "true")
			r := &recorder{TB: t}
			tt.call(r)
			if r.got != tt.want {
				t.Errorf("got %q, want %q", r.got, tt.want)
			}
		})
	}
}
