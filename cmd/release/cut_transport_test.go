package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// The tests of this file run `release cut --push --no-build` as its own
// process against HTTPS and SSH remotes on loopback: the whole program,
// from flags to the tag push and the lines it prints, with the git binary
// it falls back to. No docker: the build is TestCutE2E's.

// releaseProcess runs the release program (this test binary, which
// testscript.Main makes answer to "release" on PATH) in dir and returns
// its exit code, stdout and stderr. Its environment is made from scratch,
// so neither the machine's git configuration nor the CI variables of the
// job running the tests reach it: PATH, TMPDIR and LANG, a fresh HOME,
// no system or global git configuration, then env.
func releaseProcess(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	bin, err := exec.LookPath("release")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	procEnv := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "TMPDIR" || k == "LANG" {
			procEnv = append(procEnv, kv)
		}
	}
	// A push that waits for a prompt or a dead server fails the test
	// instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(procEnv, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("release %s: %v\nstderr:\n%s", strings.Join(args, " "), ctx.Err(), stderr.String())
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// cutArgs are the arguments of every cut in this file.
var cutArgs = []string{"cut", "--push", "--no-build", "--tagger", "Release Bot <bot@example.com>"}

// errorLines returns the "release: error: " lines of stderr.
func errorLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "release: error: ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// transportClone clones bare through its path and points origin at
// remoteURL: a CI checkout of the remote, whose origin/main is the
// remote's main.
func transportClone(t *testing.T, bare, remoteURL string) *gitinfotest.Repo {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "checkout")
	gitinfotest.RunGit(t, filepath.Dir(bare), "clone", "-q", bare, dst)
	r := gitinfotest.Open(t, dst)
	r.Git("remote", "set-url", "origin", remoteURL)
	return r
}

// TestCutHTTPS cuts the first release of a repository served over HTTPS
// by a server whose certificate a private CA signed. While git does not
// know the CA, the cut fails: exit 1, one error line saying the
// certificate is not trusted, a hint naming git's two CA settings, no
// credential printed, nothing on the remote (the tag stays local). Told
// about the CA, the re-run pushes exactly that tag; another finds it there.
func TestCutHTTPS(t *testing.T) {
	tests := []struct {
		name string
		// secret is the password the server wants (user
		// x-access-token).
		secret string
		// credentials returns the remote's URL as the clone has it and
		// the environment of the cut, given the server's URL.
		credentials func(srvURL string) (string, []string)
		// trust tells git (and release) about the CA, in the clone or
		// in the environment it returns.
		trust func(r *gitinfotest.Repo, caFile string) []string
	}{
		{
			name:   "RELEASE_GIT_TOKEN, http.sslCAInfo",
			secret: "ghs_httpsCutToken2468",
			credentials: func(srvURL string) (string, []string) {
				return srvURL, []string{"RELEASE_GIT_TOKEN=ghs_httpsCutToken2468"}
			},
			trust: func(r *gitinfotest.Repo, caFile string) []string {
				r.Git("config", "http.sslCAInfo", caFile)
				return nil
			},
		},
		{
			name:   "password in the URL, GIT_SSL_CAINFO",
			secret: "urlPassword13579",
			credentials: func(srvURL string) (string, []string) {
				u, err := url.Parse(srvURL)
				if err != nil {
					t.Fatal(err)
				}
				u.User = url.UserPassword("x-access-token", "urlPassword13579")
				return u.String(), nil
			},
			trust: func(r *gitinfotest.Repo, caFile string) []string {
				return []string{"GIT_SSL_CAINFO=" + caFile}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := &cutOrigin{bare: newCutBare(t)}
			origin.seed(t, []gitinfotest.Option{gitinfotest.File("app.py", "print('hello')\n")})
			srv := gitinfotest.NewHTTPSServer(t, origin.bare, "x-access-token", tt.secret)
			remoteURL, env := tt.credentials(srv.URL)
			r := transportClone(t, origin.bare, remoteURL)
			head := r.Resolve("HEAD")
			// Refs the push must leave behind: only the release tag
			// travels.
			r.Tag("experiment", "HEAD")
			r.Branch("scratch")
			r.Checkout("scratch")
			scratch := r.Commit("feat: a local experiment", gitinfotest.File("scratch.md", "local only\n"))
			r.Checkout("main")
			noSecret := func(outs ...string) {
				t.Helper()
				for _, s := range outs {
					if strings.Contains(s, tt.secret) {
						t.Errorf("the password reached the output:\n%s", s)
					}
				}
			}

			// git does not know the CA: refused before anything reaches
			// the remote.
			code, out, errOut := releaseProcess(t, r.Dir, env, cutArgs...)
			noSecret(out, errOut)
			if code != 1 || out != "" {
				t.Errorf("untrusted certificate: exit %d, stdout %q; want 1 and nothing", code, out)
			}
			errs := errorLines(errOut)
			if len(errs) != 1 || !strings.HasPrefix(errs[0], "release: error: pushing tag v0.1.0 to "+srv.URL+": ") ||
				!strings.HasSuffix(errs[0], ": remote's TLS certificate not trusted") {
				t.Errorf("error lines %q, want one: pushing tag v0.1.0 to %s: …: remote's TLS certificate not trusted\nstderr:\n%s", errs, srv.URL, errOut)
			}
			const hint = "release: hint: if a private CA signed the server's certificate, name its file in git config http.sslCAInfo or in GIT_SSL_CAINFO"
			if !containsLines(errOut, []string{hint}) {
				t.Errorf("stderr lacks the line %q:\n%s", hint, errOut)
			}
			if tags := origin.remoteTags(t); len(tags) != 0 {
				t.Errorf("remote tags after the refused push: %v", tags)
			}

			// Told about the CA: the local tag the refused run made is
			// pushed (a re-run after a failed push is "existing", see
			// docs/cut.md), and only that tag.
			env = append(env, tt.trust(r, srv.CAFile)...)
			code, out, errOut = releaseProcess(t, r.Dir, env, cutArgs...)
			noSecret(out, errOut)
			if code != 0 || out != "existing 0.1.0 (tag v0.1.0)\n" {
				t.Fatalf("with the CA: exit %d, stdout %q, want 0 and existing 0.1.0; stderr:\n%s", code, out, errOut)
			}
			origin.checkOnlyRelease(t, "v0.1.0", head, scratch)

			// Once more: existing, the remote's tag object untouched.
			tagObject := gitinfotest.RunGit(t, origin.bare, "rev-parse", "refs/tags/v0.1.0")
			code, out, errOut = releaseProcess(t, r.Dir, env, cutArgs...)
			noSecret(out, errOut)
			if code != 0 || out != "existing 0.1.0 (tag v0.1.0)\n" {
				t.Errorf("re-run: exit %d, stdout %q, want 0 and existing 0.1.0; stderr:\n%s", code, out, errOut)
			}
			if got := gitinfotest.RunGit(t, origin.bare, "rev-parse", "refs/tags/v0.1.0"); got != tagObject {
				t.Errorf("the re-run replaced the remote tag object %s with %s", tagObject, got)
			}
		})
	}
}

// TestCutSSH cuts over SSH: two clones of one remote, at commit X and at
// its child Y, both compute 0.2.0. X's cut pushes v0.2.0; Y's finds it on
// X and stops with exit 3 and the documented conflict message. Through
// the git binary with OpenSSH against the in-process SSH server
// (GIT_SSH_COMMAND), through the git binary with a stand-in ssh
// (core.sshCommand, scp-like URL), and through go-git with a key in an
// agent.
func TestCutSSH(t *testing.T) {
	type remote struct {
		url string
		// shown is the remote's URL as release's messages show it.
		shown string
		// env is the cut's environment; configure sets up the clone.
		env       []string
		configure func(r *gitinfotest.Repo)
		// ran reports whether the pushes went over this transport.
		ran func() bool
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, root string) remote
	}{
		{"ssh:// through git and OpenSSH", func(t *testing.T, root string) remote {
			if _, err := exec.LookPath("ssh"); err != nil {
				gitinfotest.Missing(t, "no ssh client (openssh-client)")
			}
			key := gitinfotest.NewSSHKey(t)
			srv := gitinfotest.NewSSHServer(t, root, key.PublicKey())
			// No agent: go-git cannot authenticate and hands the push
			// to git, which runs ssh as configured here.
			sshCommand := "ssh -F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes" +
				" -o StrictHostKeyChecking=yes -o UserKnownHostsFile=" + srv.KnownHosts + " -i " + key.WriteFile(t)
			return remote{
				url:   srv.URL("app.git"),
				shown: strings.Replace(srv.URL("app.git"), "git@", "", 1),
				env:   []string{"GIT_SSH_COMMAND=" + sshCommand},
				ran: func() bool {
					return strings.Count(strings.Join(srv.Commands(), "\n"), "git-receive-pack '/app.git'") >= 2
				},
			}
		}},
		{"scp-like through git and a stand-in ssh", func(t *testing.T, root string) remote {
			command, log := gitinfotest.LocalSSHCommand(t, root)
			return remote{
				// Port 22, where nothing of the test listens: go-git's
				// own connection fails, git runs core.sshCommand.
				url:       "git@127.0.0.1:app.git",
				shown:     "git@127.0.0.1:app.git",
				configure: func(r *gitinfotest.Repo) { r.Git("config", "core.sshCommand", command) },
				ran: func() bool {
					b, _ := os.ReadFile(log)
					return strings.Count(string(b), "git@127.0.0.1 git-receive-pack 'app.git'") >= 2
				},
			}
		}},
		{"ssh:// through go-git", func(t *testing.T, root string) remote {
			key := gitinfotest.NewSSHKey(t)
			srv := gitinfotest.NewSSHServer(t, root, key.PublicKey())
			return remote{
				url:   srv.URL("app.git"),
				shown: strings.Replace(srv.URL("app.git"), "git@", "", 1),
				// A git binary that fell back would fail: the pushes
				// must be go-git's.
				env: []string{"SSH_AUTH_SOCK=" + gitinfotest.NewSSHAgent(t, key), "SSH_KNOWN_HOSTS=" + srv.KnownHosts, "GIT_SSH_COMMAND=false"},
				ran: func() bool {
					return strings.Count(strings.Join(srv.Commands(), "\n"), "git-receive-pack '/app.git'") >= 2
				},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := &cutOrigin{bare: newCutBare(t)}
			seed := gitinfotest.New(t)
			seed.Commit("feat: the service", gitinfotest.File("app.py", "print(0)\n"))
			seed.Tag("v0.1.0", "HEAD")
			x := seed.Commit("feat: x", gitinfotest.File("app.py", "print('x')\n"))
			y := seed.Commit("fix: y", gitinfotest.File("app.py", "print('y')\n"))
			seed.Git("push", "-q", origin.bare, "main", "v0.1.0")
			rem := tt.setup(t, filepath.Dir(origin.bare))
			px, py := transportClone(t, origin.bare, rem.url), transportClone(t, origin.bare, rem.url)
			px.Git("reset", "-q", "--hard", x)
			if rem.configure != nil {
				rem.configure(px)
				rem.configure(py)
			}

			code, out, errOut := releaseProcess(t, px.Dir, rem.env, cutArgs...)
			if code != 0 || out != "created 0.2.0 (tag v0.2.0)\n" {
				t.Fatalf("cut at X: exit %d, stdout %q, want 0 and created 0.2.0; stderr:\n%s", code, out, errOut)
			}
			want := map[string]string{"v0.1.0": "commit " + gitinfotest.RunGit(t, origin.bare, "rev-parse", "v0.1.0"), "v0.2.0": "tag " + x}
			if diff := cmp.Diff(want, origin.remoteTags(t)); diff != "" {
				t.Errorf("remote tags after X's cut mismatch (-want +got):\n%s", diff)
			}

			code, out, errOut = releaseProcess(t, py.Dir, rem.env, cutArgs...)
			wantLines := []string{
				"release: error: another pipeline released v0.2.0 first: origin (" + rem.shown + ") has it on commit " + x[:12] + ", HEAD is " + y[:12] + "; nothing was built or pushed: conflict",
				"release: hint: nothing to fix: the next run releases the commits after v0.2.0 (in a local clone: git tag -d v0.2.0 && git fetch --tags)",
			}
			if code != 3 || out != "" || len(errorLines(errOut)) != 1 || !containsLines(errOut, wantLines) {
				t.Errorf("cut at Y: exit %d, stdout %q, stderr:\n%s\nwant exit 3, nothing on stdout, and the lines:\n%s", code, out, errOut, strings.Join(wantLines, "\n"))
			}
			if diff := cmp.Diff(want, origin.remoteTags(t)); diff != "" {
				t.Errorf("remote tags after Y's cut mismatch (-want +got):\n%s", diff)
			}
			if !rem.ran() {
				t.Error("the two pushes did not both go over SSH as set up")
			}
		})
	}
}
