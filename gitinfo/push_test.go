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

// pushFixture is a local repository with v1.0.0 (annotated) on HEAD, an
// empty bare remote, and local refs that must not travel with the tag: an
// older lightweight tag, another annotated tag on HEAD and a branch.
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
	f.local.Tag("v0.9.0", f.first)
	f.local.AnnotatedTag("v1.0.0-rc.1", f.head, "release candidate", At(T(9)))
	f.local.Branch("feature")
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

// remoteRefs lists every ref of the bare remote.
func (f *pushFixture) remoteRefs(t *testing.T) []string {
	t.Helper()
	out := gitinfotest.RunGit(t, f.bare, "for-each-ref", "--format=%(refname)")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// checkPushed checks that the remote holds our v1.0.0 and nothing else:
// no other local tag, no branch.
func (f *pushFixture) checkPushed(t *testing.T) {
	t.Helper()
	if obj, commit := f.remoteTag(t); obj != f.tagObject || commit != f.head {
		t.Errorf("remote v1.0.0 = %s -> %s, want %s -> %s", obj, commit, f.tagObject, f.head)
	}
	if diff := cmp.Diff([]string{"refs/tags/v1.0.0"}, f.remoteRefs(t)); diff != "" {
		t.Errorf("remote refs after pushing v1.0.0 (-want +got):\n%s", diff)
	}
}

// transport is a way to reach the fixture's bare remote.
type transport struct {
	remote string
	opts   gitinfo.PushOptions
	// viaGit: only the git binary gets through (go-git cannot).
	viaGit bool
	// ran reports whether the push went over SSH as intended, for SSH
	// transports.
	ran func(t *testing.T) bool
}

// The transports newTransport sets up.
var transports = []string{
	"path", "file url",
	"http, url userinfo", "http, token",
	"https, url userinfo", "https, token",
	"ssh url, go-git", "ssh url, git binary", "scp-like, git binary",
}

// newTransport serves the fixture's bare remote as name says. HTTP(S)
// remotes check basic auth (ci, s3cret); the HTTPS server's private CA is
// in the repository's http.sslCAInfo. "ssh url, go-git" is an in-process
// SSH server with the client's key in an agent; the git binary ones stand
// a script in for ssh (GIT_SSH_COMMAND for ssh://, core.sshCommand for
// scp-like), on an address go-git cannot connect to.
func newTransport(t *testing.T, f *pushFixture, name string) transport {
	t.Helper()
	withUser := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword("ci", "s3cret")
		return u.String()
	}
	token := gitinfo.PushOptions{Token: "s3cret", Username: "ci"}
	switch name {
	case "path":
		return transport{remote: f.bare}
	case "file url":
		return transport{remote: "file://" + f.bare}
	case "http, url userinfo", "http, token":
		srv := gitinfotest.NewHTTPServer(t, f.bare, "ci", "s3cret")
		if name == "http, token" {
			return transport{remote: srv.URL, opts: token}
		}
		return transport{remote: withUser(srv.URL)}
	case "https, url userinfo", "https, token":
		srv := gitinfotest.NewHTTPSServer(t, f.bare, "ci", "s3cret")
		f.local.Git("config", "http.sslCAInfo", srv.CAFile)
		if name == "https, token" {
			return transport{remote: srv.URL, opts: token}
		}
		return transport{remote: withUser(srv.URL)}
	case "ssh url, go-git":
		key := gitinfotest.NewSSHKey(t)
		srv := gitinfotest.NewSSHServer(t, filepath.Dir(f.bare), key.PublicKey())
		t.Setenv("SSH_AUTH_SOCK", gitinfotest.NewSSHAgent(t, key))
		t.Setenv("SSH_KNOWN_HOSTS", srv.KnownHosts)
		return transport{remote: srv.URL("app.git"), ran: func(t *testing.T) bool {
			return strings.Contains(strings.Join(srv.Commands(), "\n"), "git-receive-pack '/app.git'")
		}}
	case "ssh url, git binary", "scp-like, git binary":
		command, log := gitinfotest.LocalSSHCommand(t, filepath.Dir(f.bare))
		ran := func(t *testing.T) bool {
			b, _ := os.ReadFile(log)
			return strings.Contains(string(b), "git@127.0.0.1 git-receive-pack")
		}
		if name == "ssh url, git binary" {
			// Port 1: go-git's own connection is refused.
			t.Setenv("GIT_SSH_COMMAND", command)
			return transport{remote: "ssh://git@127.0.0.1:1/app.git", viaGit: true, ran: ran}
		}
		// Port 22, where nothing of ours listens.
		f.local.Git("config", "core.sshCommand", command)
		return transport{remote: "git@127.0.0.1:app.git", viaGit: true, ran: ran}
	}
	t.Fatalf("unknown transport %q", name)
	return transport{}
}

// TestPushTag pushes with go-git alone where it can (the git binary is
// disabled), so each transport is shown to work without the fallback.
func TestPushTag(t *testing.T) {
	for _, name := range transports {
		t.Run(name, func(t *testing.T) {
			f := newPushFixture(t)
			tr := newTransport(t, f, name)
			var opts []gitinfo.Option
			if !tr.viaGit {
				opts = append(opts, gitinfo.WithGitBinary(""))
			}
			repo := open(t, f.local.Dir, opts...)
			ctx := context.Background()
			if err := repo.PushTag(ctx, tr.remote, "v1.0.0", tr.opts); err != nil {
				t.Fatalf("PushTag: %v", err)
			}
			f.checkPushed(t)
			if tr.ran != nil && !tr.ran(t) {
				t.Error("the push did not go over SSH")
			}
			// A re-run is success.
			if err := repo.PushTag(ctx, tr.remote, "v1.0.0", tr.opts); err != nil {
				t.Errorf("second PushTag: %v", err)
			}
			f.checkPushed(t)
		})
	}
}

func TestPushTagConflict(t *testing.T) {
	for _, name := range transports {
		t.Run(name, func(t *testing.T) {
			f := newPushFixture(t)
			tr := newTransport(t, f, name)
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
	for _, name := range []string{"path", "http, token", "ssh url, go-git", "scp-like, git binary"} {
		t.Run(name, func(t *testing.T) {
			f := newPushFixture(t)
			tr := newTransport(t, f, name)
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

// TestPushTagHTTPS pushes to a server whose certificate a private CA
// signed, configured for git in each of the ways git reads, with go-git
// alone and with the git binary available: go-git must trust what git
// would, and hand over to git what it cannot read; verification is never
// turned off but by git's own settings.
func TestPushTagHTTPS(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer)
		// goGit: go-git alone trusts the server; git: so does the push
		// with the git binary available.
		goGit, git bool
	}{
		{
			name: "http.sslCAInfo",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				f.local.Git("config", "http.sslCAInfo", srv.CAFile)
			},
			goGit: true, git: true,
		},
		{
			name: "http.<url>.sslCAInfo for the repository",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				f.local.Git("config", "http."+srv.URL+".sslCAInfo", srv.CAFile)
			},
			goGit: true, git: true,
		},
		{
			name: "http.<url>.sslCAInfo for the server, the most specific",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				u, _ := url.Parse(srv.URL)
				f.local.Git("config", "http."+u.Scheme+"://"+u.Host+"/.sslCAInfo", srv.CAFile)
				f.local.Git("config", "http.sslCAInfo", otherCA(t))
				f.local.Git("config", "http."+u.Scheme+"://"+u.Host+"/other.git.sslCAInfo", otherCA(t))
			},
			goGit: true, git: true,
		},
		{
			name: "http.<url>.sslCAInfo for another host name",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				u, _ := url.Parse(srv.URL)
				f.local.Git("config", "http.https://localhost:"+u.Port()+"/.sslCAInfo", srv.CAFile)
			},
		},
		{
			name: "GIT_SSL_CAINFO",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				t.Setenv("GIT_SSL_CAINFO", srv.CAFile)
			},
			goGit: true, git: true,
		},
		{
			name: "GIT_SSL_CAINFO wins over http.sslCAInfo",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				t.Setenv("GIT_SSL_CAINFO", otherCA(t))
				f.local.Git("config", "http.sslCAInfo", srv.CAFile)
			},
		},
		{
			name: "global configuration, path from the home directory",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				home, _ := os.UserHomeDir()
				copyFile(t, srv.CAFile, filepath.Join(home, "ca.pem"))
				global := filepath.Join(t.TempDir(), "gitconfig")
				writeFile(t, global, "[http]\n\tsslCAInfo = ~/ca.pem\n")
				t.Setenv("GIT_CONFIG_GLOBAL", global)
			},
			goGit: true, git: true,
		},
		{
			name: "an included file: git binary only",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				inc := filepath.Join(t.TempDir(), "tls.inc")
				writeFile(t, inc, "[http]\n\tsslCAInfo = "+srv.CAFile+"\n")
				f.local.Git("config", "include.path", inc)
			},
			git: true,
		},
		{
			name: "http.sslVerify=false: git binary only",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {
				f.local.Git("config", "http.sslVerify", "false")
			},
			git: true,
		},
		{
			name:  "GIT_SSL_NO_VERIFY: git binary only",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) { t.Setenv("GIT_SSL_NO_VERIFY", "1") },
			git:   true,
		},
		{
			name:  "no CA",
			setup: func(t *testing.T, f *pushFixture, srv *gitinfotest.HTTPServer) {},
		},
	}
	for _, tt := range tests {
		for _, withGit := range []bool{false, true} {
			want := tt.goGit
			name := tt.name + "/go-git"
			var opts []gitinfo.Option
			if withGit {
				want, name = tt.git, tt.name+"/git binary"
			} else {
				opts = append(opts, gitinfo.WithGitBinary(""))
			}
			t.Run(name, func(t *testing.T) {
				f := newPushFixture(t)
				srv := gitinfotest.NewHTTPSServer(t, f.bare, "ci", "s3cret")
				tt.setup(t, f, srv)
				u, _ := url.Parse(srv.URL)
				u.User = url.UserPassword("ci", "s3cret")
				err := open(t, f.local.Dir, opts...).PushTag(context.Background(), u.String(), "v1.0.0", gitinfo.PushOptions{})
				if want {
					if err != nil {
						t.Fatalf("PushTag: %v", err)
					}
					f.checkPushed(t)
					return
				}
				t.Logf("PushTag: %v", err)
				if !errors.Is(err, gitinfo.ErrCertificate) {
					t.Fatalf("PushTag = %v, want ErrCertificate", err)
				}
				var h interface{ Hint() string }
				if !errors.As(err, &h) || !strings.Contains(h.Hint(), "http.sslCAInfo") {
					t.Errorf("PushTag = %v: no hint naming http.sslCAInfo", err)
				}
				if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "\n") {
					t.Errorf("error is not one line without the password: %q", msg)
				}
				if refs := f.remoteRefs(t); refs != nil {
					t.Errorf("remote refs after a refused push: %v", refs)
				}
			})
		}
	}
}

// TestPushTagMissingCAFile: a CA file git is told about but that is not
// there is named in the error (git would fail on it too).
func TestPushTagMissingCAFile(t *testing.T) {
	f := newPushFixture(t)
	srv := gitinfotest.NewHTTPSServer(t, f.bare, "ci", "s3cret")
	f.local.Git("config", "http.sslCAInfo", filepath.Join(t.TempDir(), "gone.pem"))
	err := open(t, f.local.Dir).PushTag(context.Background(), srv.URL, "v1.0.0", gitinfo.PushOptions{Token: "s3cret", Username: "ci"})
	if err == nil || !strings.Contains(err.Error(), "http.sslCAInfo") || !strings.Contains(err.Error(), "gone.pem") {
		t.Fatalf("PushTag = %v, want an error naming http.sslCAInfo and the file", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the token: %v", err)
	}
}

// TestPushTagHTTPSThenRefused: go-git does not trust the server, the git
// binary does (through configuration go-git does not read) and is then
// refused: the error is about the credentials, not the certificate.
func TestPushTagHTTPSThenRefused(t *testing.T) {
	f := newPushFixture(t)
	srv := gitinfotest.NewHTTPSServer(t, f.bare, "ci", "s3cret")
	f.local.Git("config", "http.sslVerify", "false")
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("ci", "wrong-password")
	err := open(t, f.local.Dir).PushTag(context.Background(), u.String(), "v1.0.0", gitinfo.PushOptions{})
	if !errors.Is(err, gitinfo.ErrAuthentication) || errors.Is(err, gitinfo.ErrCertificate) {
		t.Fatalf("PushTag = %v, want ErrAuthentication alone", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error shows the password: %v", err)
	}
}

// TestPushTagSSHFallback: go-git reaches the SSH server but its key (from
// the agent) is refused; the git binary, with ssh configured as the user
// has it, pushes.
func TestPushTagSSHFallback(t *testing.T) {
	tests := []struct {
		name string
		// sshCommand returns GIT_SSH_COMMAND for a client holding key,
		// and reports whether it ran afterwards.
		sshCommand func(t *testing.T, f *pushFixture, srv *gitinfotest.SSHServer, key *gitinfotest.SSHKey) (string, func() bool)
	}{
		{"OpenSSH with the authorized key", func(t *testing.T, f *pushFixture, srv *gitinfotest.SSHServer, key *gitinfotest.SSHKey) (string, func() bool) {
			if _, err := exec.LookPath("ssh"); err != nil {
				gitinfotest.Missing(t, "no ssh client (openssh-client)")
			}
			cmd := "ssh -F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes" +
				" -o StrictHostKeyChecking=yes -o UserKnownHostsFile=" + srv.KnownHosts + " -i " + key.WriteFile(t)
			return cmd, func() bool {
				return strings.Contains(strings.Join(srv.Commands(), "\n"), "git-receive-pack '/app.git'")
			}
		}},
		{"a stand-in ssh", func(t *testing.T, f *pushFixture, srv *gitinfotest.SSHServer, key *gitinfotest.SSHKey) (string, func() bool) {
			cmd, log := gitinfotest.LocalSSHCommand(t, filepath.Dir(f.bare))
			return cmd, func() bool {
				b, _ := os.ReadFile(log)
				return strings.Contains(string(b), "git-receive-pack")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPushFixture(t)
			authorized, other := gitinfotest.NewSSHKey(t), gitinfotest.NewSSHKey(t)
			srv := gitinfotest.NewSSHServer(t, filepath.Dir(f.bare), authorized.PublicKey())
			t.Setenv("SSH_AUTH_SOCK", gitinfotest.NewSSHAgent(t, other))
			t.Setenv("SSH_KNOWN_HOSTS", srv.KnownHosts)
			remote := srv.URL("app.git")

			// go-git alone is refused.
			err := open(t, f.local.Dir, gitinfo.WithGitBinary("")).PushTag(context.Background(), remote, "v1.0.0", gitinfo.PushOptions{})
			if !errors.Is(err, gitinfo.ErrAuthentication) {
				t.Fatalf("PushTag with go-git alone = %v, want ErrAuthentication", err)
			}

			cmd, ran := tt.sshCommand(t, f, srv, authorized)
			t.Setenv("GIT_SSH_COMMAND", cmd)
			if err := open(t, f.local.Dir).PushTag(context.Background(), remote, "v1.0.0", gitinfo.PushOptions{}); err != nil {
				t.Fatalf("PushTag: %v", err)
			}
			f.checkPushed(t)
			if !ran() {
				t.Error("the git binary's ssh did not run git-receive-pack")
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
			f.checkPushed(t)
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

// TestPushTagUnparsableURLHidesThePassword: a password pasted with a raw
// "/" makes the URL unparsable (git and url.Parse read "user:pa" as the
// host and port); the push fails, and its error still masks the password.
func TestPushTagUnparsableURLHidesThePassword(t *testing.T) {
	f := newPushFixture(t)
	for _, opts := range [][]gitinfo.Option{nil, {gitinfo.WithGitBinary("")}} {
		err := open(t, f.local.Dir, opts...).PushTag(context.Background(), "http://ci:pa/ss-W0rd@127.0.0.1:1/app.git", "v1.0.0", gitinfo.PushOptions{})
		if err == nil {
			t.Fatal("PushTag succeeded, want an error")
		}
		if strings.Contains(err.Error(), "ss-W0rd") {
			t.Errorf("error shows the password: %v", err)
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
	f.checkPushed(t)
}

// TestPushTagGitBinaryKeepsPasswordsOffTheCommandLine: when go-git's push
// fails and the git binary takes over, a password from the URL reaches git
// as an Authorization header in its environment, never in its argv (the
// process list): a wrong one is refused, a right one pushes.
func TestPushTagGitBinaryKeepsPasswordsOffTheCommandLine(t *testing.T) {
	realGit := gitinfotest.GitPath(t)
	tests := []struct {
		name     string
		password string
		// server serves the fixture's remote so that go-git fails and
		// the git binary is used.
		server func(t *testing.T, f *pushFixture) string
		ok     bool
	}{
		{"wrong password, refused", "wrong-password", func(t *testing.T, f *pushFixture) string {
			return gitinfotest.NewHTTPServer(t, f.bare, "ci", "s3cret").URL
		}, false},
		{"right password, certificate only git trusts", "s3cret", func(t *testing.T, f *pushFixture) string {
			srv := gitinfotest.NewHTTPSServer(t, f.bare, "ci", "s3cret")
			inc := filepath.Join(t.TempDir(), "tls.inc")
			writeFile(t, inc, "[http]\n\tsslCAInfo = "+srv.CAFile+"\n")
			f.local.Git("config", "include.path", inc)
			return srv.URL
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPushFixture(t)
			argv := filepath.Join(t.TempDir(), "argv")
			wrapper := filepath.Join(t.TempDir(), "git")
			script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + argv + "\nexec " + realGit + " \"$@\"\n"
			if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(tt.server(t, f))
			u.User = url.UserPassword("ci", tt.password)
			err := open(t, f.local.Dir, gitinfo.WithGitBinary(wrapper)).PushTag(context.Background(), u.String(), "v1.0.0", gitinfo.PushOptions{})
			if tt.ok {
				if err != nil {
					t.Fatalf("PushTag: %v", err)
				}
				f.checkPushed(t)
			} else if !errors.Is(err, gitinfo.ErrAuthentication) {
				t.Fatalf("PushTag = %v, want ErrAuthentication", err)
			}
			got, err := os.ReadFile(argv)
			if err != nil {
				t.Fatalf("the git binary never ran: %v", err)
			}
			if !strings.Contains(string(got), "push") {
				t.Fatalf("git argv %q: no push", got)
			}
			if strings.Contains(string(got), tt.password) {
				t.Errorf("the password reached git's command line:\n%s", got)
			}
		})
	}
}

// otherCA returns the CA file of an HTTPS server other than the test's: a
// valid bundle that does not sign its certificate.
func otherCA(t *testing.T) string {
	t.Helper()
	return gitinfotest.NewHTTPSServer(t, gitinfotest.NewBare(t, "other.git"), "", "").CAFile
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}
