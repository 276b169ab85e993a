package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo/gitinfotest"
	"github.com/releasetool/release/registry"
)

// cutJSON is what `release cut --json` prints.
type cutJSON struct {
	Action  string `json:"action"`
	Version string `json:"version"`
	Tag     string `json:"tag"`
	Commit  string `json:"commit"`
	Images  []struct {
		Repository string   `json:"repository"`
		Tags       []string `json:"tags"`
		Digest     string   `json:"digest"`
		Existing   bool     `json:"existing"`
	} `json:"images"`
	Changelog string `json:"changelog"`
}

// isolateCut keeps the machine's git identity and any CI variables of the
// job running the tests out of in-process runs: the pipeline reads them.
func isolateCut(t *testing.T) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	for _, k := range ciVariables {
		t.Setenv(k, "")
	}
}

// ciVariables are the variables release cut reads besides its flags'.
var ciVariables = []string{
	"GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_HEAD_REF", "GITHUB_SHA", "GITHUB_ACTOR", "GITHUB_ACTOR_ID",
	"GITLAB_CI", "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME", "CI_COMMIT_TAG", "CI_COMMIT_SHA", "CI_DEFAULT_BRANCH", "CI_PIPELINE_SOURCE",
	"CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "GITLAB_USER_NAME", "GITLAB_USER_EMAIL",
	"GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "RELEASE_GIT_TOKEN", "RELEASE_GIT_USER", "RELEASE_TAGGER",
}

// cutOrigin is the remote of a cut: a bare repository holding the sample
// app on main, served by git http-backend with basic authentication (user
// x-access-token, the token as password: what a forge's token looks like
// to git), or reached as a file:// URL.
type cutOrigin struct {
	bare  string
	srv   *gitinfotest.HTTPServer // nil: a file:// remote
	token string
}

// newCutOrigin is an http-backend origin.
func newCutOrigin(t *testing.T, token string, files ...gitinfotest.Option) *cutOrigin {
	t.Helper()
	o := &cutOrigin{bare: newCutBare(t), token: token}
	o.srv = gitinfotest.NewHTTPServer(t, o.bare, "x-access-token", token)
	o.seed(t, files)
	return o
}

// newFileCutOrigin is a bare file:// origin.
func newFileCutOrigin(t *testing.T, files ...gitinfotest.Option) *cutOrigin {
	t.Helper()
	o := &cutOrigin{bare: newCutBare(t)}
	o.seed(t, files)
	return o
}

func newCutBare(t *testing.T) string {
	t.Helper()
	bare := gitinfotest.NewBare(t, "app.git")
	gitinfotest.RunGit(t, bare, "symbolic-ref", "HEAD", "refs/heads/main")
	return bare
}

// seed pushes main with one commit of files.
func (o *cutOrigin) seed(t *testing.T, files []gitinfotest.Option) {
	t.Helper()
	src := gitinfotest.New(t)
	src.Commit("feat: the sample service", append(files, gitinfotest.At(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)))...)
	src.Git("push", "-q", o.authURL(), "main")
}

// url is the remote's URL as a CI checkout has it: without credentials.
func (o *cutOrigin) url() string {
	if o.srv == nil {
		return "file://" + o.bare
	}
	return o.srv.URL
}

// authURL is the remote's URL with the credentials in it.
func (o *cutOrigin) authURL() string {
	if o.srv == nil {
		return o.url()
	}
	u, _ := url.Parse(o.srv.URL)
	u.User = url.UserPassword("x-access-token", o.token)
	return u.String()
}

// clone is a CI checkout: cloned with credentials, then the remote's URL
// without them (the token comes from RELEASE_GIT_TOKEN).
func (o *cutOrigin) clone(t *testing.T) *gitinfotest.Repo {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "checkout")
	gitinfotest.RunGit(t, filepath.Dir(o.bare), "clone", "-q", o.authURL(), dst)
	r := gitinfotest.Open(t, dst)
	r.Git("remote", "set-url", "origin", o.url())
	return r
}

// pushMain pushes main from a checkout and updates its origin/main, as a
// merge on the forge followed by the pipeline's checkout would.
func (o *cutOrigin) pushMain(r *gitinfotest.Repo) {
	r.Git("push", "-q", o.authURL(), "main")
	r.Git("update-ref", "refs/remotes/origin/main", "main")
}

// remoteTags maps the remote's tags to "<object type> <peeled commit>".
func (o *cutOrigin) remoteTags(t *testing.T) map[string]string {
	t.Helper()
	out := gitinfotest.RunGit(t, o.bare, "for-each-ref", "--format=%(refname:short) %(objecttype) %(*objectname)%(objectname)", "refs/tags")
	tags := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			tags[f[0]] = f[1] + " " + f[2][:40]
		}
	}
	return tags
}

// remoteHeads lists the remote's branches.
func (o *cutOrigin) remoteHeads(t *testing.T) []string {
	t.Helper()
	return strings.Fields(gitinfotest.RunGit(t, o.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads"))
}

// hasObject says whether the remote holds the object hash.
func (o *cutOrigin) hasObject(hash string) bool {
	cmd := exec.Command("git", "-C", o.bare, "cat-file", "-e", hash)
	cmd.Env = gitinfotest.GitEnv()
	return cmd.Run() == nil
}

// checkOnlyRelease checks that the remote has exactly the annotated tag
// tag on commit head and the branch main: the push took that one tag, not
// the clone's other tags, its other branches or their commit scratch.
func (o *cutOrigin) checkOnlyRelease(t *testing.T, tag, head, scratch string) {
	t.Helper()
	if diff := cmp.Diff(map[string]string{tag: "tag " + head}, o.remoteTags(t)); diff != "" {
		t.Errorf("remote tags mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"main"}, o.remoteHeads(t)); diff != "" {
		t.Errorf("remote branches mismatch (-want +got):\n%s", diff)
	}
	if o.hasObject(scratch) {
		t.Errorf("the local branch's commit %s reached the remote", scratch)
	}
}

// sampleAppFiles are the files of testdata/pythonapp as commit options.
func sampleAppFiles(t *testing.T) []gitinfotest.Option {
	t.Helper()
	r := e2eRepo(t) // reads testdata/pythonapp
	var files []gitinfotest.Option
	for _, p := range strings.Split(r.Git("ls-files"), "\n") {
		b, err := os.ReadFile(filepath.Join(r.Dir, p))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, gitinfotest.File(p, string(b)))
	}
	return files
}

// cutE2E runs release cut in-process against the real engine with the
// given environment on top of the isolated one.
func cutE2E(t *testing.T, e e2eEnv, dir string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	return e2eRun(t, e, dir, append([]string{"cut"}, args...)...)
}

// TestCutE2E runs the pipeline's story against the real engine and
// registry over both kinds of remote (git http-backend, a bare file://
// repository): the first release, a re-run, nothing to release. Over HTTP
// it goes on: refusals, a prerelease, wrong credentials.
func TestCutE2E(t *testing.T) {
	e := newE2EEnv(t)
	isolateCut(t)
	files := sampleAppFiles(t)
	for _, transport := range []string{"http", "file"} {
		t.Run(transport, func(t *testing.T) {
			if transport == "http" {
				testCutE2E(t, e, newCutOrigin(t, cutE2EToken, files...))
			} else {
				testCutE2E(t, e, newFileCutOrigin(t, files...))
			}
		})
	}
}

// cutE2EToken is the http-backend origin's token in TestCutE2E.
const cutE2EToken = "ghs_e2eCutToken1234567"

func testCutE2E(t *testing.T, e e2eEnv, origin *cutOrigin) {
	const token = cutE2EToken
	r := origin.clone(t)
	kind := "http"
	if origin.srv == nil {
		kind = "file"
	}
	image := fmt.Sprintf("%s/e2e/cut-%s-%d", e.registry, kind, time.Now().UnixNano())
	outputs := t.TempDir()
	ghOutput, dotenv := filepath.Join(outputs, "github_output"), filepath.Join(outputs, "release.env")
	env := map[string]string{"RELEASE_GIT_TOKEN": token, "GITHUB_OUTPUT": ghOutput}
	args := []string{"--push", "--image", image, "--docker", e.docker, "--network", "host", "--build-arg", "PYTHON_IMAGE=" + e.pythonImage,
		"--tagger", "Release Bot <bot@example.com>", "--dotenv", dotenv, "--json"}
	client, err := registry.New(registry.WithCAFile(e.ca))
	if err != nil {
		t.Fatal(err)
	}
	noSecret := func(outs ...string) {
		t.Helper()
		for _, s := range outs {
			if strings.Contains(s, token) {
				t.Errorf("the token reached the output:\n%s", s)
			}
		}
	}
	decode := func(out string) cutJSON {
		t.Helper()
		var res cutJSON
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("--json output: %v\n%s", err, out)
		}
		return res
	}

	// Local refs the push must leave behind: exactly one tag travels. An
	// annotated tag on HEAD (what --follow-tags would take along), a
	// lightweight one and a branch with a commit of its own (what --tags
	// or --all would).
	head := r.Resolve("HEAD")
	r.AnnotatedTag("reviewed", "HEAD", "looked at it\n")
	r.Branch("scratch")
	r.Checkout("scratch")
	scratch := r.Commit("feat: a local experiment", gitinfotest.File("scratch.md", "local only\n"))
	r.Tag("experiment", scratch)
	r.Checkout("main")

	// The first release: tag on the remote (annotated, the notes as its
	// message), image pushed with the policy's tags, labels naming HEAD.
	code, out, errOut := cutE2E(t, e, r.Dir, env, args...)
	if code != 0 {
		t.Fatalf("release cut exited %d:\n%s", code, errOut)
	}
	noSecret(out, errOut)
	first := decode(out)
	if first.Action != "created" || first.Version != "0.1.0" || first.Tag != "v0.1.0" || first.Commit != head {
		t.Errorf("first cut = %+v", first)
	}
	origin.checkOnlyRelease(t, "v0.1.0", head, scratch)
	message := gitinfotest.RunGit(t, origin.bare, "for-each-ref", "--format=%(contents)", "refs/tags/v0.1.0")
	if message+"\n" != first.Changelog || !strings.HasPrefix(message, "### Features\n\n- the sample service (") {
		t.Errorf("tag message %q, changelog %q", message, first.Changelog)
	}
	wantTags := []string{"0.1.0", "sha-" + head[:12], "0.1", "latest"}
	if diff := cmp.Diff(wantTags, first.Images[0].Tags); diff != "" {
		t.Errorf("image tags mismatch (-want +got):\n%s", diff)
	}
	registryTags, err := client.Tags(t.Context(), image)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(wantTags)), slices.Sorted(slices.Values(registryTags))); diff != "" {
		t.Errorf("registry tags mismatch (-want +got):\n%s", diff)
	}
	digest := first.Images[0].Digest
	if d, err := client.Resolve(t.Context(), image+":0.1.0"); err != nil || d.Digest != digest {
		t.Errorf("%s:0.1.0 = %v %v, --json said %s", image, d, err, digest)
	}
	labels := configLabels(t, client, image+"@"+digest)
	if labels["org.opencontainers.image.revision"] != head || labels["org.opencontainers.image.version"] != "0.1.0" {
		t.Errorf("labels revision %q version %q", labels["org.opencontainers.image.revision"], labels["org.opencontainers.image.version"])
	}
	// The outputs, exactly.
	notesDelim := func(s string) string {
		_, rest, _ := strings.Cut(s, "changelog<<")
		d, _, _ := strings.Cut(rest, "\n")
		return d
	}
	gh, err := os.ReadFile(ghOutput)
	if err != nil {
		t.Fatal(err)
	}
	delim := notesDelim(string(gh))
	imagesJSON := fmt.Sprintf(`[{"repository":%q,"tags":["0.1.0","sha-%s","0.1","latest"],"digest":%q}]`, image, head[:12], digest)
	wantGH := "action=created\nversion=0.1.0\ntag=v0.1.0\ncommit=" + head + "\ndigest=" + digest + "\nimage=" + image + "@" + digest + "\n" +
		"images=" + imagesJSON + "\nchangelog<<" + delim + "\n" + strings.TrimSuffix(first.Changelog, "\n") + "\n" + delim + "\n"
	if diff := cmp.Diff(wantGH, string(gh)); diff != "" {
		t.Errorf("GITHUB_OUTPUT mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(delim, "RELEASE_EOF_") {
		t.Errorf("delimiter %q", delim)
	}
	de, err := os.ReadFile(dotenv)
	if err != nil {
		t.Fatal(err)
	}
	wantDotenv := "RELEASE_ACTION=created\nRELEASE_VERSION=0.1.0\nRELEASE_TAG=v0.1.0\nRELEASE_COMMIT=" + head + "\nRELEASE_DIGEST=" + digest +
		"\nRELEASE_IMAGE=" + image + "@" + digest + "\nRELEASE_IMAGE_1=" + image + "@" + digest + "\nRELEASE_DIGEST_1=" + digest + "\n"
	if diff := cmp.Diff(wantDotenv, string(de)); diff != "" {
		t.Errorf("dotenv mismatch (-want +got):\n%s", diff)
	}

	// A re-run on the same commit: existing, nothing rebuilt, nothing new.
	tagObject := gitinfotest.RunGit(t, origin.bare, "rev-parse", "refs/tags/v0.1.0")
	code, out, errOut = cutE2E(t, e, r.Dir, env, args...)
	if code != 0 {
		t.Fatalf("re-run exited %d:\n%s", code, errOut)
	}
	again := decode(out)
	if again.Action != "existing" || again.Images[0].Digest != digest || !again.Images[0].Existing {
		t.Errorf("re-run = %+v, want existing with digest %s", again, digest)
	}
	if got := gitinfotest.RunGit(t, origin.bare, "rev-parse", "refs/tags/v0.1.0"); got != tagObject {
		t.Errorf("the re-run replaced the remote tag object %s with %s", tagObject, got)
	}
	if tags, _ := client.Tags(t.Context(), image); len(tags) != len(wantTags) {
		t.Errorf("registry tags after the re-run: %v", tags)
	}

	// Nothing to release: exit 0, action none, no tag, no build.
	r.Commit("docs: how to run it", gitinfotest.File("docs/run.md", "run it\n"))
	origin.pushMain(r)
	code, out, errOut = cutE2E(t, e, r.Dir, env, args...)
	if code != 0 {
		t.Fatalf("nothing to release exited %d:\n%s", code, errOut)
	}
	if none := decode(out); none.Action != "none" || none.Version != "0.1.0" || len(none.Images) != 0 {
		t.Errorf("nothing to release = %+v", none)
	}
	if tags := origin.remoteTags(t); len(tags) != 1 {
		t.Errorf("remote tags after nothing to release: %v", tags)
	}
	if origin.srv == nil {
		return // the rest does not depend on the transport, or is HTTP's
	}

	// A dirty worktree is refused; so is another branch, where a
	// prerelease is allowed.
	r.WriteFile("scratch.txt", "x")
	code, out, errOut = cutE2E(t, e, r.Dir, env, args...)
	checkE2EError(t, code, out, errOut, 1, []string{"release: error: worktree has uncommitted changes: ?? scratch.txt", "release: hint: commit or stash the changes, or pass --allow-dirty"})
	if err := os.Remove(filepath.Join(r.Dir, "scratch.txt")); err != nil {
		t.Fatal(err)
	}
	r.Branch("feature")
	r.Checkout("feature")
	rc := r.Commit("feat: a preview", gitinfotest.File("src/release_sample_app/preview.py", "PREVIEW = True\n"))
	code, out, errOut = cutE2E(t, e, r.Dir, env, args...)
	checkE2EError(t, code, out, errOut, 1, []string{"HEAD is on feature (checked out), not on the release branch main (the default branch of origin)", "or --pre LABEL for a prerelease"})
	code, out, errOut = cutE2E(t, e, r.Dir, env, append(slices.Clone(args), "--pre", "rc")...)
	if code != 0 {
		t.Fatalf("prerelease exited %d:\n%s", code, errOut)
	}
	pre := decode(out)
	if pre.Action != "created" || pre.Version != "0.2.0-rc.1" || pre.Images[0].Digest == "" {
		t.Errorf("prerelease = %+v", pre)
	}
	if got := origin.remoteTags(t)["v0.2.0-rc.1"]; got != "tag "+rc {
		t.Errorf("remote v0.2.0-rc.1 = %q, want an annotated tag of %s", got, rc)
	}
	if diff := cmp.Diff([]string{"0.2.0-rc.1", "sha-" + rc[:12]}, pre.Images[0].Tags); diff != "" {
		t.Errorf("prerelease tags mismatch (-want +got):\n%s", diff)
	}

	// Wrong credentials: one clear error, exit 1, no secret anywhere; then
	// the right token finishes the release.
	r.Checkout("main")
	fix := r.Commit("fix: a bug", gitinfotest.File("src/release_sample_app/fix.txt", "fixed\n"))
	origin.pushMain(r)
	const wrong = "ghs_wrongToken9876543"
	code, out, errOut = cutE2E(t, e, r.Dir, map[string]string{"RELEASE_GIT_TOKEN": wrong}, args...)
	checkE2EError(t, code, out, errOut, 1, []string{"release: error: pushing tag v0.1.1 to " + origin.srv.URL + ": ", "remote refused the credentials", "release: hint: pass a token allowed to push tags with --git-token or RELEASE_GIT_TOKEN"})
	if n := strings.Count(errOut, "release: error: "); n != 1 {
		t.Errorf("%d error lines:\n%s", n, errOut)
	}
	for _, secret := range []string{wrong, token} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("a token reached the output:\n%s", errOut)
		}
	}
	if _, ok := origin.remoteTags(t)["v0.1.1"]; ok {
		t.Error("v0.1.1 reached the remote with a wrong token")
	}
	if tags, _ := client.Tags(t.Context(), image); slices.Contains(tags, "0.1.1") {
		t.Error("0.1.1 was pushed to the registry although the tag push failed")
	}
	// A wrong password in the remote's URL, no token: the same.
	const wrongPassword = "wrongURLpassword77"
	withPassword, _ := url.Parse(origin.srv.URL)
	withPassword.User = url.UserPassword("x-access-token", wrongPassword)
	r.Git("remote", "set-url", "origin", withPassword.String())
	code, out, errOut = cutE2E(t, e, r.Dir, map[string]string{"RELEASE_GIT_TOKEN": ""}, args...)
	checkE2EError(t, code, out, errOut, 1, []string{"release: error: pushing tag v0.1.1 to " + origin.srv.URL + ": ", "remote refused the credentials"})
	if strings.Contains(out+errOut, wrongPassword) {
		t.Errorf("the URL's password reached the output:\n%s", errOut)
	}
	r.Git("remote", "set-url", "origin", origin.srv.URL)
	code, out, errOut = cutE2E(t, e, r.Dir, env, args...)
	if code != 0 {
		t.Fatalf("with the right token exited %d:\n%s", code, errOut)
	}
	if fixed := decode(out); fixed.Action != "existing" || fixed.Version != "0.1.1" || fixed.Commit != fix {
		t.Errorf("after the credentials are fixed = %+v", fixed)
	}
	if got := origin.remoteTags(t)["v0.1.1"]; got != "tag "+fix {
		t.Errorf("remote v0.1.1 = %q", got)
	}
}

// TestCutE2EFailedBuild: the build fails after the tag is pushed (to a bare
// file:// remote); a re-run in a fresh checkout (a CI retry) finds the tag
// on the remote at the same commit, builds and pushes.
func TestCutE2EFailedBuild(t *testing.T) {
	e := newE2EEnv(t)
	isolateCut(t)
	src := gitinfotest.New(t)
	src.Commit("feat: a service", gitinfotest.File("Dockerfile",
		"FROM "+e.pythonImage+"\nARG FAIL=\nRUN if [ -n \"$FAIL\" ]; then echo 'the build broke' >&2; exit 3; fi\nLABEL com.example.built=yes\n"))
	bare := gitinfotest.NewBare(t, "app.git")
	gitinfotest.RunGit(t, bare, "symbolic-ref", "HEAD", "refs/heads/main")
	src.Git("push", "-q", bare, "main")
	checkout := func() *gitinfotest.Repo {
		dst := filepath.Join(t.TempDir(), "checkout")
		gitinfotest.RunGit(t, filepath.Dir(bare), "clone", "-q", "file://"+bare, dst)
		return gitinfotest.Open(t, dst)
	}
	image := fmt.Sprintf("%s/e2e/cut-fail-%d", e.registry, time.Now().UnixNano())
	args := []string{"--push", "--image", image, "--docker", e.docker, "--network", "host", "--tagger", "CI <ci@example.com>", "--json"}
	r := checkout()
	head := r.Resolve("HEAD")
	code, out, errOut := cutE2E(t, e, r.Dir, nil, append(slices.Clone(args), "--build-arg", "FAIL=1")...)
	checkE2EError(t, code, out, errOut, 1, []string{"release: error: docker ", "the build broke", "v0.1.0 is on the remote but its image is not complete: run release cut again on this commit to finish"})
	if got := gitinfotest.RunGit(t, bare, "rev-parse", "v0.1.0^{commit}"); got != head {
		t.Fatalf("remote v0.1.0 = %s, want %s", got, head)
	}
	client, err := registry.New(registry.WithCAFile(e.ca))
	if err != nil {
		t.Fatal(err)
	}
	if tags, err := client.Tags(t.Context(), image); err != nil || len(tags) != 0 {
		t.Errorf("registry tags after the failed build: %v %v", tags, err)
	}

	r = checkout()
	code, out, errOut = cutE2E(t, e, r.Dir, nil, args...)
	if code != 0 {
		t.Fatalf("re-run exited %d:\n%s", code, errOut)
	}
	var res cutJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Action != "existing" || res.Version != "0.1.0" || res.Images[0].Digest == "" {
		t.Errorf("re-run = %+v", res)
	}
	labels := configLabels(t, client, image+":0.1.0")
	if labels["org.opencontainers.image.revision"] != head || labels["com.example.built"] != "yes" {
		t.Errorf("labels of the re-run's image: %v", labels)
	}
}

// pushGate is a reverse proxy in front of a git HTTP server that holds
// every receive-pack POST (the request that updates the remote's refs)
// until want of them have arrived, then lets them all through at once: the
// pipelines of a race round then all reach the ref update, with none of
// them having seen another's tag. A request waits at most timeout; then
// it goes through and the gate counts as broken (the round fails).
type pushGate struct {
	// URL is the repository's URL through the gate.
	URL string

	want    int
	timeout time.Duration
	all     chan struct{} // closed when want POSTs arrived
	mu      sync.Mutex
	arrived int
	late    bool // a POST gave up waiting
}

func newPushGate(t *testing.T, repoURL string, want int, timeout time.Duration) *pushGate {
	t.Helper()
	target, err := url.Parse(repoURL)
	if err != nil {
		t.Fatal(err)
	}
	g := &pushGate{want: want, timeout: timeout, all: make(chan struct{})}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/git-receive-pack") {
			g.mu.Lock()
			g.arrived++
			if g.arrived == g.want {
				close(g.all)
			}
			g.mu.Unlock()
			select {
			case <-g.all:
			case <-time.After(g.timeout):
				g.mu.Lock()
				g.late = true
				g.mu.Unlock()
			case <-req.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL + target.Path
	return g
}

// held reports how many POSTs arrived and whether all of them were held
// until the last one came.
func (g *pushGate) held() (int, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived, g.arrived == g.want && !g.late
}

// TestCutE2ERace runs two real release processes together, 20 times:
// clones of one fresh remote (git http-backend) at commit X and at its
// child Y, both computing 0.2.0. A gate in front of the remote holds the
// first tag push until the second has arrived, so every round both reach
// the remote's ref update (git-receive-pack's ref lock decides). Every
// round exactly one v0.2.0 reaches the remote, the other process exits 3
// with the documented message and pushes no image, and the image under
// 0.2.0 carries the winner's revision, read through the registry.
func TestCutE2ERace(t *testing.T) {
	e := newE2EEnv(t)
	isolateCut(t)
	bin, err := exec.LookPath("release") // the test binary, from testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	client, err := registry.New(registry.WithCAFile(e.ca))
	if err != nil {
		t.Fatal(err)
	}
	procEnv := []string{"DOCKER_HOST=" + e.dockerHost, "DOCKER_CONFIG=" + e.dockerConfig, "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "TMPDIR" || k == "LANG" {
			procEnv = append(procEnv, kv)
		}
	}
	const (
		rounds = 20
		// gateTimeout bounds the wait for the second push; it is far
		// above the few hundred milliseconds the two processes are apart.
		gateTimeout = 20 * time.Second
	)
	wins := map[string]int{}
	for round := range rounds {
		origin := newCutOrigin(t, fmt.Sprintf("round-%d-token", round), gitinfotest.File("Dockerfile", "FROM scratch\nCOPY payload.txt /\n"), gitinfotest.File("payload.txt", "0\n"))
		seed := origin.clone(t)
		seed.Tag("v0.1.0", "HEAD")
		x := seed.Commit("feat: x", gitinfotest.File("payload.txt", "x\n"))
		y := seed.Commit("fix: y", gitinfotest.File("payload.txt", "y\n"))
		seed.Git("push", "-q", origin.authURL(), "main", "v0.1.0")
		gate := newPushGate(t, origin.srv.URL, 2, gateTimeout)
		px, py := origin.clone(t), origin.clone(t)
		px.Git("reset", "-q", "--hard", x)
		for _, clone := range []*gitinfotest.Repo{px, py} {
			clone.Git("remote", "set-url", "origin", gate.URL)
		}
		image := fmt.Sprintf("%s/e2e/cut-race-%d-%d", e.registry, time.Now().UnixNano(), round)

		type outcome struct {
			code        int
			out, errOut string
		}
		results := make([]outcome, 2)
		clones := []*gitinfotest.Repo{px, py}
		order := []int{0, 1}
		if round%2 == 1 {
			order = []int{1, 0} // Y starts first in odd rounds
		}
		var wg sync.WaitGroup
		for _, i := range order {
			cmd := exec.CommandContext(t.Context(), bin, "cut", "--push", "--image", image, "--docker", e.docker, "--tagger", "Pipeline <ci@example.com>", "--json")
			cmd.Dir = clones[i].Dir
			cmd.Env = append(slices.Clone(procEnv), "RELEASE_GIT_TOKEN="+origin.token)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				err := cmd.Wait()
				code := 0
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					code = exit.ExitCode()
				} else if err != nil {
					code = -1
				}
				results[i] = outcome{code, stdout.String(), stderr.String()}
			})
		}
		wg.Wait()

		if n, ok := gate.held(); !ok {
			t.Errorf("round %d: %d tag push(es) arrived, want both held until both reached the remote's ref update (the gate waits %s)\nX: %+v\nY: %+v", round, n, gateTimeout, results[0], results[1])
		}
		tags := origin.remoteTags(t)
		winner := strings.TrimPrefix(tags["v0.2.0"], "tag ")
		if len(tags) != 2 {
			t.Errorf("round %d: remote tags %v, want v0.1.0 and one v0.2.0", round, tags)
		}
		var win, lose outcome
		var loser string
		switch winner {
		case x:
			wins["X"]++
			win, lose, loser = results[0], results[1], y
		case y:
			wins["Y"]++
			win, lose, loser = results[1], results[0], x
		default:
			t.Fatalf("round %d: v0.2.0 on the remote is on %q, neither X %s nor Y %s\nX: %+v\nY: %+v", round, winner, x, y, results[0], results[1])
		}
		if win.code != 0 {
			t.Errorf("round %d: the winner exited %d:\n%s", round, win.code, win.errOut)
		}
		wantLoser := []string{
			fmt.Sprintf("release: error: another pipeline released v0.2.0 first: origin (%s) has it on commit %s, HEAD is %s; nothing was built or pushed: conflict", gate.URL, winner[:12], loser[:12]),
			"release: hint: nothing to fix: the next run releases the commits after v0.2.0 (in a local clone: git tag -d v0.2.0 && git fetch --tags)",
		}
		if lose.code != 3 || lose.out != "" || strings.Contains(lose.errOut, "building with docker") || !containsLines(lose.errOut, wantLoser) {
			t.Errorf("round %d: the loser exited %d, stdout %q, stderr:\n%s\nwant exit 3, no build, and the lines:\n%s", round, lose.code, lose.out, lose.errOut, strings.Join(wantLoser, "\n"))
		}
		if got := configLabels(t, client, image+":0.2.0")["org.opencontainers.image.revision"]; got != winner {
			t.Errorf("round %d: %s:0.2.0 carries revision %s, the tag is on %s", round, image, got, winner)
		}
		registryTags, err := client.Tags(t.Context(), image)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(registryTags, "sha-"+loser[:12]) {
			t.Errorf("round %d: the loser's image sha-%s is in the registry: %v", round, loser[:12], registryTags)
		}
		if diff := cmp.Diff([]string{"0.2", "0.2.0", "latest", "sha-" + winner[:12]}, slices.Sorted(slices.Values(registryTags))); diff != "" {
			t.Errorf("round %d: registry tags mismatch (-want +got):\n%s", round, diff)
		}
	}
	t.Logf("race: %d rounds, both tag pushes held until both reached the remote's ref update in every round; winners X %d, Y %d",
		rounds, wins["X"], wins["Y"])
}

// containsLines reports whether every line of want is a whole line of s.
func containsLines(s string, want []string) bool {
	lines := strings.Split(s, "\n")
	for _, w := range want {
		if !slices.Contains(lines, w) {
			return false
		}
	}
	return true
}
