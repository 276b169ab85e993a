package gitinfo_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// pushFixture is a local repository with v1.0.0 (annotated) on HEAD and an
// empty bare remote.
type pushFixture struct {
	local       *gitinfotest.Repo
	bare        string
	first, head string
	tagObject   string
}

func newPushFixture(t *testing.T) *pushFixture {
	t.Helper()
	isolateGitConfig(t)
	gitinfotest.GitPath(t)
	f := &pushFixture{local: gitinfotest.New(t), bare: gitinfotest.NewBare(t, "app.git")}
	f.first = f.local.Commit("a", File("a", "1"))
	f.head = f.local.Commit("b", File("b", "1"))
	f.tagObject = f.local.AnnotatedTag("v1.0.0", f.head, "release 1.0.0", At(T(10)))
	return f
}

// remoteTag returns the tag object and peeled commit of v1.0.0 in the bare
// remote ("" when absent).
func (f *pushFixture) remoteTag(t *testing.T) (object, commit string) {
	t.Helper()
	out := gitinfotest.RunGit(t, f.bare, "for-each-ref", "--format=%(objectname) %(*objectname)", "refs/tags/v1.0.0")
	object, commit, _ = strings.Cut(out, " ")
	return object, commit
}

// transports returns the remotes to push to: the bare repository as a path,
// a file:// URL, and over smart HTTP with credentials in the URL or as a
// token.
func transports(t *testing.T, f *pushFixture) map[string]struct {
	remote string
	opts   gitinfo.PushOptions
} {
	srv := gitinfotest.NewHTTPServer(t, f.bare, "ci", "s3cret")
	withCreds, _ := url.Parse(srv.URL)
	withCreds.User = url.UserPassword("ci", "s3cret")
	return map[string]struct {
		remote string
		opts   gitinfo.PushOptions
	}{
		"path":               {remote: f.bare},
		"file url":           {remote: "file://" + f.bare},
		"http, url userinfo": {remote: withCreds.String()},
		"http, token":        {remote: srv.URL, opts: gitinfo.PushOptions{Token: "s3cret", Username: "ci"}},
	}
}

func TestPushTag(t *testing.T) {
	for _, name := range []string{"path", "file url", "http, url userinfo", "http, token"} {
		t.Run(name, func(t *testing.T) {
			f := newPushFixture(t)
			tr := transports(t, f)[name]
			repo := open(t, f.local.Dir)
			ctx := context.Background()
			if err := repo.PushTag(ctx, tr.remote, "v1.0.0", tr.opts); err != nil {
				t.Fatalf("PushTag: %v", err)
			}
			obj, commit := f.remoteTag(t)
			if obj != f.tagObject || commit != f.head {
				t.Errorf("remote v1.0.0 = %s -> %s, want %s -> %s", obj, commit, f.tagObject, f.head)
			}
			// Exactly the tag: no branch travelled with it.
			if heads := gitinfotest.RunGit(t, f.bare, "for-each-ref", "refs/heads"); heads != "" {
				t.Errorf("remote branches after a tag push: %s", heads)
			}
			// A re-run is success.
			if err := repo.PushTag(ctx, tr.remote, "v1.0.0", tr.opts); err != nil {
				t.Errorf("second PushTag: %v", err)
			}
		})
	}
}

func TestPushTagConflict(t *testing.T) {
	for _, name := range []string{"path", "file url", "http, url userinfo", "http, token"} {
		t.Run(name, func(t *testing.T) {
			f := newPushFixture(t)
			tr := transports(t, f)[name]
			// The other pipeline won: v1.0.0 is on the remote on another
			// commit.
			f.local.Git("tag", "-d", "v1.0.0")
			f.local.AnnotatedTag("v1.0.0", f.first, "theirs", At(T(11)))
			f.local.Git("push", "--quiet", f.bare, "refs/tags/v1.0.0")
			f.local.Git("tag", "-d", "v1.0.0")
			f.local.AnnotatedTag("v1.0.0", f.head, "ours", At(T(12)))

			err := open(t, f.local.Dir).PushTag(context.Background(), tr.remote, "v1.0.0", tr.opts)
			var conflict *gitinfo.TagConflictError
			if !errors.As(err, &conflict) || !errors.Is(err, gitinfo.ErrTagConflict) {
				t.Fatalf("PushTag = %v, want a *TagConflictError", err)
			}
			want := &gitinfo.TagConflictError{Tag: "v1.0.0", Remote: gitinfo.StripUserinfo(tr.remote), Have: f.first, Want: f.head}
			if diff := cmp.Diff(want, conflict); diff != "" {
				t.Errorf("conflict (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the password: %v", err)
			}
			if _, commit := f.remoteTag(t); commit != f.first {
				t.Errorf("remote tag moved to %s", commit)
			}
		})
	}
}

// TestPushTagSameCommitOtherTagObject is the twin pipeline: both tagged the
// same commit, with different tag objects (other times). That is a re-run,
// not a conflict.
func TestPushTagSameCommitOtherTagObject(t *testing.T) {
	for _, name := range []string{"path", "http, token"} {
		t.Run(name, func(t *testing.T) {
			f := newPushFixture(t)
			tr := transports(t, f)[name]
			f.local.Git("tag", "-d", "v1.0.0")
			twin := f.local.AnnotatedTag("v1.0.0", f.head, "twin", At(T(20)))
			f.local.Git("push", "--quiet", f.bare, "refs/tags/v1.0.0")
			f.local.Git("tag", "-d", "v1.0.0")
			// Unknown to us locally after this: the remote must say what
			// it peels to.
			f.local.Git("gc", "--quiet", "--prune=now")
			if _, ok := gitOK(f.local.Dir, "cat-file", "-e", twin); ok {
				t.Fatal("the twin tag object is still in the local repository")
			}
			f.local.AnnotatedTag("v1.0.0", f.head, "ours", At(T(21)))
			if err := open(t, f.local.Dir).PushTag(context.Background(), tr.remote, "v1.0.0", tr.opts); err != nil {
				t.Errorf("PushTag = %v, want success", err)
			}
		})
	}
}

// TestPushTagGitFallback covers remotes go-git cannot authenticate to but
// the git binary can, through what CI checkouts configure.
func TestPushTagGitFallback(t *testing.T) {
	tests := []struct {
		name   string
		config [][]string
	}{
		{"credential helper", [][]string{{"credential.helper", "!f() { echo username=ci; echo password=s3cret; }; f"}}},
		{"http.extraheader", [][]string{{"http.extraheader", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("ci:s3cret"))}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPushFixture(t)
			srv := gitinfotest.NewHTTPServer(t, f.bare, "ci", "s3cret")
			for _, kv := range tc.config {
				f.local.Git("config", kv[0], kv[1])
			}
			if err := open(t, f.local.Dir).PushTag(context.Background(), srv.URL, "v1.0.0", gitinfo.PushOptions{}); err != nil {
				t.Fatalf("PushTag: %v", err)
			}
			if obj, _ := f.remoteTag(t); obj != f.tagObject {
				t.Errorf("remote v1.0.0 = %q, want %s", obj, f.tagObject)
			}
			// Without the git binary there is no way in.
			err := open(t, f.local.Dir, gitinfo.WithGitBinary("")).PushTag(context.Background(), srv.URL, "v1.0.0", gitinfo.PushOptions{})
			if err == nil {
				t.Error("PushTag with go-git only succeeded without credentials")
			}
		})
	}
}

func TestPushTagErrorsHideSecrets(t *testing.T) {
	f := newPushFixture(t)
	srv := gitinfotest.NewHTTPServer(t, f.bare, "ci", "s3cret")
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("ci", "wrong-password")
	tests := []struct {
		name   string
		remote string
		opts   gitinfo.PushOptions
		secret string
	}{
		{"bad password in the URL", u.String(), gitinfo.PushOptions{}, "wrong-password"},
		{"bad token", srv.URL, gitinfo.PushOptions{Token: "tok-XYZ-123"}, "tok-XYZ-123"},
	}
	for _, tc := range tests {
		for _, opts := range [][]gitinfo.Option{nil, {gitinfo.WithGitBinary("")}} {
			err := open(t, f.local.Dir, opts...).PushTag(context.Background(), tc.remote, "v1.0.0", tc.opts)
			if !errors.Is(err, gitinfo.ErrAuthentication) {
				t.Fatalf("%s: PushTag = %v, want ErrAuthentication", tc.name, err)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("%s: error shows the secret: %v", tc.name, err)
			}
		}
	}
}

func TestPushTagUnknown(t *testing.T) {
	f := newPushFixture(t)
	repo := open(t, f.local.Dir)
	if err := repo.PushTag(context.Background(), f.bare, "v9.9.9", gitinfo.PushOptions{}); !errors.Is(err, gitinfo.ErrUnknownRevision) {
		t.Errorf("PushTag of a missing tag = %v, want ErrUnknownRevision", err)
	}
	if err := repo.PushTag(context.Background(), "upstream", "v1.0.0", gitinfo.PushOptions{}); !errors.Is(err, gitinfo.ErrUnknownRemote) {
		t.Errorf("PushTag to a missing remote = %v, want ErrUnknownRemote", err)
	}
}

func TestPushTagConfiguredRemote(t *testing.T) {
	f := newPushFixture(t)
	f.local.AddRemote("origin", f.bare)
	if err := open(t, f.local.Dir).PushTag(context.Background(), "origin", "v1.0.0", gitinfo.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if obj, _ := f.remoteTag(t); obj != f.tagObject {
		t.Errorf("remote v1.0.0 = %q, want %s", obj, f.tagObject)
	}
}

// TestPushTagGitBinaryKeepsPasswordsOffTheCommandLine: when go-git's push is
// refused and the git binary takes over, a password from the URL reaches
// git as an Authorization header in its environment, never in its argv
// (the process list), and the push still authenticates with it.
func TestPushTagGitBinaryKeepsPasswordsOffTheCommandLine(t *testing.T) {
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git binary")
	}
	f := newPushFixture(t)
	srv := gitinfotest.NewHTTPServer(t, f.bare, "ci", "s3cret")
	argv := filepath.Join(t.TempDir(), "argv")
	wrapper := filepath.Join(t.TempDir(), "git")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + argv + "\nexec " + realGit + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("ci", "wrong-password")
	err = open(t, f.local.Dir, gitinfo.WithGitBinary(wrapper)).PushTag(context.Background(), u.String(), "v1.0.0", gitinfo.PushOptions{})
	if !errors.Is(err, gitinfo.ErrAuthentication) {
		t.Fatalf("PushTag = %v, want ErrAuthentication", err)
	}
	got, err := os.ReadFile(argv)
	if err != nil {
		t.Fatalf("the git binary never ran: %v", err)
	}
	if !strings.Contains(string(got), "push") {
		t.Fatalf("git argv %q: no push", got)
	}
	if strings.Contains(string(got), "wrong-password") {
		t.Errorf("the password reached git's command line:\n%s", got)
	}
}
