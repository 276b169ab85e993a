package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// cutClock is the tagger's clock in these tests.
var cutClock = time.Date(2024, 3, 1, 13, 0, 0, 0, time.UTC)

const cutImage = "registry.test/app"

// cutFixture is a bare "origin" with a first commit on main, and a clone of
// it where the pipeline runs, with a fake docker and a fake registry.
type cutFixture struct {
	t      *testing.T
	bare   string
	work   *gitinfotest.Repo
	reg    *fakeRegistry
	docker *fakeDockerRunner
	env    map[string]string
	steps  []StepReport
	warns  []string
}

// isolateGit keeps the machine's git configuration (and its user) out.
func isolateGit(t *testing.T) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
}

// newBareOrigin makes a bare repository holding main with one commit (a
// Dockerfile and a Python project), HEAD → main, as a forge serves it.
func newBareOrigin(t *testing.T) string {
	t.Helper()
	src := gitinfotest.New(t)
	src.Commit("feat: the service",
		gitinfotest.File("Dockerfile", "FROM scratch\nCOPY app.py /\n"),
		gitinfotest.File("pyproject.toml", "[project]\nname = \"app\"\n"),
		gitinfotest.File("app.py", "print('hello')\n"),
		gitinfotest.At(gitinfotest.Time(0)))
	bare := gitinfotest.NewBare(t, "app.git")
	src.Git("push", "-q", bare, "main")
	gitinfotest.RunGit(t, bare, "symbolic-ref", "HEAD", "refs/heads/main")
	return bare
}

// cloneOf clones a bare repository (origin/HEAD set, main checked out).
func cloneOf(t *testing.T, bare string) *gitinfotest.Repo {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "work")
	gitinfotest.RunGit(t, filepath.Dir(bare), "clone", "-q", "file://"+bare, dst)
	return gitinfotest.Open(t, dst)
}

func newCutFixture(t *testing.T) *cutFixture {
	t.Helper()
	isolateGit(t)
	bare := newBareOrigin(t)
	f := &cutFixture{t: t, bare: bare, work: cloneOf(t, bare), reg: newFakeRegistry(), env: map[string]string{}}
	f.docker = &fakeDockerRunner{builder: BuilderBuildx, reg: f.reg}
	return f
}

// options are a pushing cut of cutImage with a fixed tagger.
func (f *cutFixture) options() CutOptions {
	return CutOptions{
		Version: DefaultOptions(),
		Build:   BuildOptions{Images: []string{cutImage}, Context: f.work.Dir},
		Tagger:  "Release Bot <bot@example.com>",
		Push:    true,
	}
}

func (f *cutFixture) cut(opts CutOptions) (*CutResult, error) {
	f.t.Helper()
	f.steps, f.warns = nil, nil
	repo, err := gitinfo.Open(context.Background(), f.work.Dir)
	if err != nil {
		f.t.Fatal(err)
	}
	defer repo.Close()
	deps := CutDeps{
		Git: repo, Registry: f.reg, Docker: f.docker,
		Getenv: func(k string) string { return f.env[k] },
		Now:    func() time.Time { return cutClock },
		Step:   func(r StepReport) { f.steps = append(f.steps, r) },
		Warnf:  func(format string, args ...any) { f.warns = append(f.warns, fmt.Sprintf(format, args...)) },
	}
	return Cut(context.Background(), deps, opts)
}

// remoteTag returns the tag object and peeled commit of tag in the bare
// remote ("" when absent).
func (f *cutFixture) remoteTag(tag string) (object, commit string) {
	f.t.Helper()
	out := gitinfotest.RunGit(f.t, f.bare, "for-each-ref", "--format=%(objectname) %(*objectname)", "refs/tags/"+tag)
	object, commit, _ = strings.Cut(out, " ")
	return object, commit
}

// commitAndPush makes a commit in the clone and pushes main.
func (f *cutFixture) commitAndPush(msg string) string {
	f.t.Helper()
	h := f.work.Commit(msg, gitinfotest.File(strings.ReplaceAll(msg, " ", "_")+".txt", msg))
	f.work.Git("push", "-q", "origin", "main")
	return h
}

// statuses are the steps as "name:status".
func (f *cutFixture) statuses() []string {
	var out []string
	for _, s := range f.steps {
		out = append(out, s.Name+":"+string(s.Status))
	}
	return out
}

func (f *cutFixture) revisionLabel(ref string) string {
	f.t.Helper()
	raw, err := f.reg.Config(context.Background(), ref)
	if err != nil {
		f.t.Fatal(err)
	}
	var cfg struct {
		Config struct{ Labels map[string]string } `json:"config"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		f.t.Fatal(err)
	}
	return cfg.Config.Labels[LabelRevision]
}

func TestCutFirstReleaseAndReruns(t *testing.T) {
	f := newCutFixture(t)
	head := f.work.Resolve("HEAD")
	res, err := f.cut(f.options())
	if err != nil {
		t.Fatalf("Cut() error = %v", err)
	}
	digest := f.reg.tags[cutImage+":0.1.0"]
	notes := "### Features\n\n- the service (" + head[:7] + ")\n"
	want := &CutResult{
		Action: ActionCreated, Version: "0.1.0", Tag: "v0.1.0", Commit: head,
		Images:    []ImageResult{{Repository: cutImage, Tags: []string{"0.1.0", "sha-" + head[:12], "0.1", "latest"}, Digest: digest}},
		Changelog: notes,
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Cut() mismatch (-want +got):\n%s", diff)
	}
	wantSteps := []string{"check:done", "branch:done", "version:done", "plan:done", "tag:done", "push:done", "build:done", "report:done"}
	if diff := cmp.Diff(wantSteps, f.statuses()); diff != "" {
		t.Errorf("steps mismatch (-want +got):\n%s", diff)
	}
	// The remote's tag is annotated, on HEAD, with the notes and the tagger.
	object, commit := f.remoteTag("v0.1.0")
	if commit != head || object == head {
		t.Fatalf("remote v0.1.0 = object %s peeled %s, want an annotated tag of %s", object, commit, head)
	}
	wantObject := fmt.Sprintf("object %s\ntype commit\ntag v0.1.0\ntagger Release Bot <bot@example.com> %d +0000\n\n%s", head, cutClock.Unix(), notes)
	if diff := cmp.Diff(wantObject, gitinfotest.RunGit(t, f.bare, "cat-file", "-p", "v0.1.0")+"\n"); diff != "" {
		t.Errorf("tag object mismatch (-want +got):\n%s", diff)
	}
	if got := f.revisionLabel(cutImage + ":0.1.0"); got != head {
		t.Errorf("revision label = %q, want %s", got, head)
	}
	builds := len(f.docker.calls)

	// A re-run on the same commit: existing, nothing rebuilt, the tag
	// unchanged on the remote.
	again, err := f.cut(f.options())
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	want.Action = ActionExisting
	want.Images[0].Existing = true
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("re-run mismatch (-want +got):\n%s", diff)
	}
	if len(f.docker.calls) != builds {
		t.Errorf("the re-run ran docker: %v", f.docker.calls[builds:])
	}
	if o, _ := f.remoteTag("v0.1.0"); o != object {
		t.Errorf("the re-run replaced the remote tag %s with %s", object, o)
	}
	if diff := cmp.Diff([]string{"check:done", "branch:done", "version:done", "plan:done", "tag:skipped", "push:done", "build:done", "report:done"}, f.statuses()); diff != "" {
		t.Errorf("re-run steps mismatch (-want +got):\n%s", diff)
	}

	// Nothing to release: a docs commit.
	docs := f.commitAndPush("docs: explain")
	none, err := f.cut(f.options())
	if err != nil {
		t.Fatalf("nothing to release: %v", err)
	}
	wantNone := &CutResult{Action: ActionNone, Version: "0.1.0", Tag: "v0.1.0", Commit: docs, Images: []ImageResult{}}
	if diff := cmp.Diff(wantNone, none); diff != "" {
		t.Errorf("nothing to release mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"check:done", "branch:done", "version:done", "plan:skipped", "tag:skipped", "push:skipped", "build:skipped", "report:done"}, f.statuses()); diff != "" {
		t.Errorf("nothing to release steps mismatch (-want +got):\n%s", diff)
	}
	if f.steps[2].Detail != "nothing to release: no commit since v0.1.0 changes the version" || f.steps[4].Detail != "nothing to release" {
		t.Errorf("version step %q, tag step %q", f.steps[2].Detail, f.steps[4].Detail)
	}
	if tags := gitinfotest.RunGit(t, f.bare, "tag"); tags != "v0.1.0" {
		t.Errorf("remote tags = %q, want v0.1.0 only", tags)
	}
	if len(f.docker.calls) != builds {
		t.Errorf("nothing to release ran docker: %v", f.docker.calls[builds:])
	}
}

func TestCutFailedBuildThenRerun(t *testing.T) {
	f := newCutFixture(t)
	head := f.work.Resolve("HEAD")
	f.docker.fail = &DockerError{Command: "buildx build", ExitCode: 1, Stderr: "the build broke"}
	_, err := f.cut(f.options())
	var de *DockerError
	if !errors.As(err, &de) {
		t.Fatalf("Cut() error = %v, want the docker error", err)
	}
	if _, commit := f.remoteTag("v0.1.0"); commit != head {
		t.Fatalf("the tag is not on the remote after the failed build (%q)", commit)
	}
	if len(f.warns) == 0 || !strings.Contains(f.warns[len(f.warns)-1], "run release cut again on this commit") {
		t.Errorf("warnings = %q, want the re-run advice", f.warns)
	}
	// A re-run in a fresh clone, as a CI retry does: the tag is fetched,
	// HEAD is tagged, the image is built and pushed.
	f.docker.fail = nil
	f.work = cloneOf(t, f.bare)
	res, err := f.cut(f.options())
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if res.Action != ActionExisting || res.Images[0].Digest == "" || res.Images[0].Existing {
		t.Errorf("re-run = %+v, want existing with a fresh build", res)
	}
	if got := f.revisionLabel(cutImage + ":0.1.0"); got != head {
		t.Errorf("revision label = %q, want %s", got, head)
	}
}

func TestCutRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *cutFixture)
		opts    func(o *CutOptions)
		wantErr error
		want    string // in the error
		hint    string // in the hint
	}{
		{
			name:    "dirty worktree",
			setup:   func(f *cutFixture) { f.work.WriteFile("app.py", "changed") },
			wantErr: ErrDirty, want: "M app.py", hint: "--allow-dirty",
		},
		{
			name:    "another branch",
			setup:   func(f *cutFixture) { f.work.Branch("feature"); f.work.Checkout("feature") },
			wantErr: ErrNotReleaseBranch, want: "HEAD is on feature (checked out), not on the release branch main (the default branch of origin)", hint: "--pre LABEL",
		},
		{
			name:    "detached HEAD behind main",
			setup:   func(f *cutFixture) { f.commitAndPush("fix: x"); f.work.Checkout("HEAD~1") },
			wantErr: ErrNotReleaseBranch, want: "HEAD is detached", hint: "git checkout main",
		},
		{
			name: "pull request in GitHub Actions",
			setup: func(f *cutFixture) {
				f.work.Detach()
				f.env = map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_HEAD_REF": "feature", "GITHUB_REF_NAME": "1/merge", "GITHUB_REF_TYPE": "branch"}
			},
			wantErr: ErrNotReleaseBranch, want: "HEAD is a change from feature (GITHUB_HEAD_REF, a pull request)",
		},
		{
			name: "GitLab variables naming main for another commit, HEAD behind main",
			setup: func(f *cutFixture) {
				tip := f.commitAndPush("fix: x")
				f.work.Checkout("HEAD~1")
				f.env = map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_SHA": tip}
			},
			wantErr: ErrNotReleaseBranch, want: "(CI_COMMIT_BRANCH=main is for commit ", hint: "git checkout main",
		},
		{
			name: "GitLab merge request pipeline",
			setup: func(f *cutFixture) {
				f.work.Detach()
				f.env = map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_COMMIT_REF_NAME": "feature"}
			},
			wantErr: ErrNotReleaseBranch, want: "HEAD is a change from feature (CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, a merge request)",
		},
		{
			name:    "--branch names another branch",
			opts:    func(o *CutOptions) { o.Branch = "release" },
			wantErr: ErrNotReleaseBranch, want: "not on the release branch release (--branch)",
		},
		{
			name:    "a commit main on the remote does not have",
			setup:   func(f *cutFixture) { f.work.Commit("feat: local only") },
			wantErr: ErrNotReleaseBranch, want: "HEAD has 1 commit that origin/main does not", hint: "git push origin main",
		},
		{
			name: "the exact image tag holds another commit's image",
			setup: func(f *cutFixture) {
				f.reg.put(cutImage+":0.1.0", map[string]string{LabelRevision: strings.Repeat("e", 40)})
			},
			wantErr: ErrConflict, want: "registry.test/app:0.1.0 already holds the image of commit eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", hint: "--force",
		},
		{
			name:    "no tagger",
			opts:    func(o *CutOptions) { o.Tagger = "" },
			wantErr: gitinfo.ErrNoTagger, want: "no tagger for v0.1.0", hint: "--tagger",
		},
		{
			name:    "a prerelease without a PEP 440 form, caught before the tag",
			opts:    func(o *CutOptions) { o.Version.Pre = "feature" },
			wantErr: ErrInvalid, want: "cannot be built as a Python package",
		},
		{
			name:    "a missing Dockerfile, caught before the tag",
			opts:    func(o *CutOptions) { o.Build.Dockerfile = filepath.Join(o.Build.Context, "Nope") },
			want:    "does not exist",
			wantErr: errAny,
		},
		{
			name:    "--dev",
			opts:    func(o *CutOptions) { o.Version.Dev = true },
			wantErr: ErrInvalid, want: "--dev versions are for builds of untagged commits",
		},
		{
			name:    "no image",
			opts:    func(o *CutOptions) { o.Build.Images = nil },
			wantErr: ErrInvalid, hint: "--no-build",
		},
		{
			name:    "bad tagger",
			opts:    func(o *CutOptions) { o.Tagger = "bot@example.com" },
			wantErr: ErrInvalid, want: "want Name <email>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCutFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			opts := f.options()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			_, err := f.cut(opts)
			if err == nil {
				t.Fatal("Cut() succeeded")
			}
			if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
				t.Errorf("Cut() error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if !strings.Contains(Hint(err), tt.hint) {
				t.Errorf("hint %q lacks %q", Hint(err), tt.hint)
			}
			// Nothing changed anywhere.
			if tags := gitinfotest.RunGit(t, f.bare, "tag"); tags != "" {
				t.Errorf("remote tags = %q, want none", tags)
			}
			if tags := f.work.Git("tag"); tags != "" {
				t.Errorf("local tags = %q, want none", tags)
			}
			if len(f.docker.calls) != 0 {
				t.Errorf("docker ran: %v", f.docker.calls)
			}
		})
	}
}

// errAny matches any error in TestCutRefusals.
var errAny = errors.New("any error")

func TestCutAllowed(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(f *cutFixture)
		opts        func(o *CutOptions)
		wantVersion string
		wantBranch  string // detail of the branch step
	}{
		{
			name:        "a prerelease from another branch",
			setup:       func(f *cutFixture) { f.work.Branch("feature"); f.work.Checkout("feature") },
			opts:        func(o *CutOptions) { o.Version.Pre = "rc"; o.Push = false },
			wantVersion: "0.1.0-rc.1", wantBranch: "prerelease from feature (checked out)",
		},
		{
			name:        "a dirty worktree with --allow-dirty",
			setup:       func(f *cutFixture) { f.work.WriteFile("app.py", "changed") },
			opts:        func(o *CutOptions) { o.AllowDirty = true },
			wantVersion: "0.1.0", wantBranch: "on main (checked out), the release branch (the default branch of origin)",
		},
		{
			name: "GitHub Actions push, detached",
			setup: func(f *cutFixture) {
				f.work.Detach()
				f.env = map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"}
			},
			wantVersion: "0.1.0", wantBranch: "on main (GITHUB_REF_NAME), the release branch (the default branch of origin)",
		},
		{
			name: "GitLab branch pipeline, detached, no origin/HEAD",
			setup: func(f *cutFixture) {
				f.work.Detach()
				f.work.Git("remote", "set-head", "origin", "--delete")
				f.env = map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main"}
			},
			wantVersion: "0.1.0", wantBranch: "on main (CI_COMMIT_BRANCH), the release branch (origin/HEAD is not set; origin/main exists)",
		},
		{
			name: "GitLab branch pipeline, the release branch from CI_DEFAULT_BRANCH",
			setup: func(f *cutFixture) {
				f.work.Detach()
				f.env = map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": f.work.Resolve("HEAD"), "CI_DEFAULT_BRANCH": "main"}
			},
			wantVersion: "0.1.0", wantBranch: "on main (CI_COMMIT_BRANCH), the release branch (CI_DEFAULT_BRANCH)",
		},
		{
			name:        "detached at the tip of origin/main, no CI variables",
			setup:       func(f *cutFixture) { f.work.Detach() },
			wantVersion: "0.1.0", wantBranch: "on main (detached HEAD at the tip of origin/main), the release branch (the default branch of origin)",
		},
		{
			name:        "tag only",
			opts:        func(o *CutOptions) { o.NoBuild = true; o.Build.Images = nil },
			wantVersion: "0.1.0", wantBranch: "on main (checked out), the release branch (the default branch of origin)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCutFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			opts := f.options()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			res, err := f.cut(opts)
			if err != nil {
				t.Fatalf("Cut() error = %v", err)
			}
			if res.Version != tt.wantVersion || res.Action != ActionCreated {
				t.Errorf("Cut() = %s %s, want created %s", res.Action, res.Version, tt.wantVersion)
			}
			if got := f.steps[1].Detail; got != tt.wantBranch {
				t.Errorf("branch step = %q, want %q", got, tt.wantBranch)
			}
			if _, commit := f.remoteTag(res.Tag); opts.Push && commit != res.Commit {
				t.Errorf("remote %s on %q, want %s", res.Tag, commit, res.Commit)
			}
		})
	}
}

func TestCutConflict(t *testing.T) {
	f := newCutFixture(t)
	first := f.work.Resolve("HEAD")
	// Another pipeline released v0.1.0 from the first commit; this clone
	// did not fetch its tag and is one commit further.
	other := cloneOf(t, f.bare)
	other.Tag("v0.1.0", "HEAD")
	other.Git("push", "-q", "origin", "v0.1.0")
	f.commitAndPush("fix: later")
	_, err := f.cut(f.options())
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Cut() error = %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), "another pipeline released v0.1.0 first") || !strings.Contains(err.Error(), first[:12]) {
		t.Errorf("error = %q", err)
	}
	if len(f.docker.calls) != 0 {
		t.Errorf("docker ran after the lost race: %v", f.docker.calls)
	}
}

// TestCutShallowTaggedRerun: a re-run in a depth-1 checkout of a commit
// that already carries its release tag (a tag-triggered job) reuses the
// tag; the release's notes are unknown there, which is a warning and an
// empty changelog, not an error.
func TestCutShallowTaggedRerun(t *testing.T) {
	f := newCutFixture(t)
	if _, err := f.cut(f.options()); err != nil {
		t.Fatalf("first release: %v", err)
	}
	head := f.commitAndPush("feat: more")
	if _, err := f.cut(f.options()); err != nil {
		t.Fatalf("second release: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "shallow")
	gitinfotest.RunGit(t, filepath.Dir(f.bare), "clone", "-q", "--depth=1", "file://"+f.bare, dst)
	f.work = gitinfotest.Open(t, dst)
	opts := f.options()
	opts.NoBuild = true
	res, err := f.cut(opts)
	if err != nil {
		t.Fatalf("Cut() in a shallow clone: %v", err)
	}
	want := &CutResult{Action: ActionExisting, Version: "0.2.0", Tag: "v0.2.0", Commit: head, Images: []ImageResult{}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Cut() mismatch (-want +got):\n%s", diff)
	}
	wantWarns := []string{
		"the clone is shallow: the previous release, commits and bump of v0.2.0 are unknown (git fetch --unshallow --tags)",
		"the notes of v0.2.0 are unknown in this shallow clone: the changelog output is empty",
	}
	if diff := cmp.Diff(wantWarns, f.warns); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

// statusCounter counts the worktree status reads (each one runs git status).
type statusCounter struct {
	CutGit
	reads int
}

func (g *statusCounter) Status(ctx context.Context) (gitinfo.Status, error) {
	g.reads++
	return g.CutGit.Status(ctx)
}

// TestCutReadsStatusOnce: the check step's worktree status serves the
// version policy too.
func TestCutReadsStatusOnce(t *testing.T) {
	f := newCutFixture(t)
	repo, err := gitinfo.Open(context.Background(), f.work.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	git := &statusCounter{CutGit: repo}
	opts := f.options()
	opts.NoBuild, opts.Push = true, false
	res, err := Cut(context.Background(), CutDeps{Git: git, Now: func() time.Time { return cutClock }}, opts)
	if err != nil {
		t.Fatalf("Cut() error = %v", err)
	}
	if res.Action != ActionCreated || git.reads != 1 {
		t.Errorf("Cut() = %s with %d status reads, want created with 1", res.Action, git.reads)
	}
}

func TestCutDryRun(t *testing.T) {
	f := newCutFixture(t)
	out := filepath.Join(t.TempDir(), "github_output")
	opts := f.options()
	opts.DryRun = true
	opts.GitHubOutput = out
	res, err := f.cut(opts)
	if err != nil {
		t.Fatalf("Cut() error = %v", err)
	}
	var got []string
	for _, s := range res.Steps {
		got = append(got, s.Name+":"+string(s.Status)+": "+s.Detail)
	}
	head := res.Commit
	want := []string{
		"check:done: clean worktree at " + head[:12],
		"branch:done: on main (checked out), the release branch (the default branch of origin)",
		"version:done: 0.1.0, tag v0.1.0 (no release tag yet)",
		"plan:done: buildx build; registry.test/app: 0.1.0 sha-" + head[:12] + " 0.1 latest",
		"tag:planned: would create the annotated tag v0.1.0 on " + head[:12] + " (tagger Release Bot <bot@example.com> from --tagger)",
		"push:planned: would push refs/tags/v0.1.0 to origin (file://" + f.bare + ")",
		"build:planned: would run 1 docker command(s)",
		"report:planned: created 0.1.0 (tag v0.1.0); would write $GITHUB_OUTPUT (" + out + ")",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dry-run steps mismatch (-want +got):\n%s", diff)
	}
	if len(res.Commands) != 1 || res.Commands[0][0] != "buildx" {
		t.Errorf("commands = %v", res.Commands)
	}
	if tags := f.work.Git("tag"); tags != "" {
		t.Errorf("the dry run tagged: %q", tags)
	}
	if tags := gitinfotest.RunGit(t, f.bare, "tag"); tags != "" {
		t.Errorf("the dry run pushed: %q", tags)
	}
	if len(f.docker.calls) != 0 || f.reg.reads != 0 {
		t.Errorf("the dry run ran docker %v or read the registry %d times", f.docker.calls, f.reg.reads)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dry run wrote %s", out)
	}
}

func TestTaggerSources(t *testing.T) {
	tests := []struct {
		name   string
		flag   string
		env    map[string]string
		config [][2]string
		want   string // "Name <email> from source", or the error
	}{
		{name: "flag wins", flag: "Ada <ada@example.com>", env: map[string]string{"GIT_COMMITTER_NAME": "C", "GIT_COMMITTER_EMAIL": "c@x"}, config: [][2]string{{"user.name", "U"}, {"user.email", "u@x"}}, want: "Ada <ada@example.com> from --tagger"},
		{name: "git's committer variables", env: map[string]string{"GIT_COMMITTER_NAME": "C", "GIT_COMMITTER_EMAIL": "c@x", "GITHUB_ACTOR": "octo", "GITHUB_ACTOR_ID": "1"}, config: [][2]string{{"user.name", "U"}, {"user.email", "u@x"}}, want: "C <c@x> from GIT_COMMITTER_NAME/EMAIL"},
		{name: "git config", env: map[string]string{"GITHUB_ACTOR": "octo", "GITHUB_ACTOR_ID": "1"}, config: [][2]string{{"user.name", "U"}, {"user.email", "u@x"}}, want: "U <u@x> from git config"},
		{name: "git config without email", env: map[string]string{"GITHUB_ACTOR": "octo", "GITHUB_ACTOR_ID": "583231"}, config: [][2]string{{"user.name", "U"}}, want: "octo <583231+octo@users.noreply.github.com> from GITHUB_ACTOR"},
		{name: "GitHub actor without id", env: map[string]string{"GITHUB_ACTOR": "octo", "GITLAB_USER_NAME": "G", "GITLAB_USER_EMAIL": "g@x"}, want: "G <g@x> from GITLAB_USER_NAME/EMAIL"},
		{name: "nothing", env: map[string]string{"GITHUB_ACTOR": "octo"}, want: "no tagger for v1.0.0: no --tagger, no git user.name and user.email, no CI user: no tagger identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateGit(t)
			r := gitinfotest.New(t)
			r.Commit("a")
			for _, kv := range tt.config {
				r.Git("config", kv[0], kv[1])
			}
			repo, err := gitinfo.Open(t.Context(), r.Dir)
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			opts := CutOptions{Tagger: tt.flag, NoBuild: true}
			c, err := newCutRun(CutDeps{Git: repo, Getenv: func(k string) string { return tt.env[k] }}, opts)
			if err != nil {
				t.Fatal(err)
			}
			c.version = &Result{Tag: "v1.0.0"}
			sig, source, err := c.resolveTagger(t.Context())
			got := fmt.Sprintf("%s <%s> from %s", sig.Name, sig.Email, source)
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("tagger = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseTagger(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{in: "Ada Lovelace <ada@example.com>", want: "Ada Lovelace|ada@example.com"},
		{in: "  Release Bot   < bot@example.com >  ", want: "Release Bot|bot@example.com"},
		{in: "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>", want: "github-actions[bot]|41898282+github-actions[bot]@users.noreply.github.com"},
		{in: "bot@example.com", want: "error: want Name <email>"},
		{in: "<bot@example.com>", want: "error: the name is empty"},
		{in: "Bot <>", want: "error: the email is empty"},
		{in: "Bot <a@b> trailing", want: "error: want Name <email>"},
		{in: "Bot <a<b@c>", want: "error: angle brackets and line breaks are not allowed in a name or email"},
		{in: "Bo\nt <a@b>", want: "error: angle brackets and line breaks are not allowed in a name or email"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sig, err := ParseTagger(tt.in)
			got := sig.Name + "|" + sig.Email
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v is not ErrInvalid", err)
				}
				_, why, _ := strings.Cut(strings.TrimSuffix(err.Error(), ": invalid"), ": ")
				got = "error: " + why
			}
			if got != tt.want {
				t.Errorf("ParseTagger(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCutOutputs(t *testing.T) {
	res := &CutResult{
		Action: ActionCreated, Version: "1.2.0", Tag: "v1.2.0", Commit: strings.Repeat("a", 40),
		Images: []ImageResult{
			{Repository: "127.0.0.1:5000/app", Tags: []string{"1.2.0", "1.2"}, Digest: "sha256:" + strings.Repeat("1", 64)},
			{Repository: "ghcr.io/org/app", Tags: []string{"1.2.0", "1.2"}, Digest: "sha256:" + strings.Repeat("2", 64)},
		},
		Changelog: "### Features\n\n- **api:** x (aaaaaaa)\n",
	}
	d1, d2 := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	wantGitHub := "action=created\nversion=1.2.0\ntag=v1.2.0\ncommit=" + res.Commit + "\ndigest=" + d1 + "\nimage=127.0.0.1:5000/app@" + d1 + "\n" +
		`images=[{"repository":"127.0.0.1:5000/app","tags":["1.2.0","1.2"],"digest":"` + d1 + `"},{"repository":"ghcr.io/org/app","tags":["1.2.0","1.2"],"digest":"` + d2 + `"}]` + "\n" +
		"changelog<<RELEASE_EOF_346845cfe07ac64c\n### Features\n\n- **api:** x (aaaaaaa)\nRELEASE_EOF_346845cfe07ac64c\n"
	if diff := cmp.Diff(wantGitHub, res.GitHubOutput()); diff != "" {
		t.Errorf("GitHubOutput mismatch (-want +got):\n%s", diff)
	}
	wantDotEnv := "RELEASE_ACTION=created\nRELEASE_VERSION=1.2.0\nRELEASE_TAG=v1.2.0\nRELEASE_COMMIT=" + res.Commit + "\nRELEASE_DIGEST=" + d1 + "\nRELEASE_IMAGE=127.0.0.1:5000/app@" + d1 + "\n" +
		"RELEASE_IMAGE_1=127.0.0.1:5000/app@" + d1 + "\nRELEASE_DIGEST_1=" + d1 + "\nRELEASE_IMAGE_2=ghcr.io/org/app@" + d2 + "\nRELEASE_DIGEST_2=" + d2 + "\n"
	if diff := cmp.Diff(wantDotEnv, res.DotEnv()); diff != "" {
		t.Errorf("DotEnv mismatch (-want +got):\n%s", diff)
	}

	none := &CutResult{Action: ActionNone, Version: "1.2.0", Tag: "v1.2.0", Commit: res.Commit, Images: []ImageResult{}}
	wantNone := "action=none\nversion=1.2.0\ntag=v1.2.0\ncommit=" + res.Commit + "\ndigest=\nimage=\nimages=[]\nchangelog=\n"
	if diff := cmp.Diff(wantNone, none.GitHubOutput()); diff != "" {
		t.Errorf("GitHubOutput of nothing mismatch (-want +got):\n%s", diff)
	}

	// A value holding the would-be delimiter gets a longer one.
	sneaky := &CutResult{Changelog: "a\nRELEASE_EOF_"}
	out := sneaky.GitHubOutput()
	_, block, _ := strings.Cut(out, "changelog<<")
	delim, body, _ := strings.Cut(block, "\n")
	if body != "a\nRELEASE_EOF_\n"+delim+"\n" {
		t.Errorf("changelog block = %q", block)
	}
}

// TestCutRace runs two pipelines at once, 20 times, on clones of one bare
// remote: one at commit X, one at its child Y, both computing 0.2.0. The
// tag push is the lock: every round exactly one tag reaches the remote,
// the other pipeline fails with ErrConflict before building, and the image
// under 0.2.0 carries the winner's commit.
func TestCutRace(t *testing.T) {
	isolateGit(t)
	wins := map[string]int{}
	for round := range 20 {
		bare := newBareOrigin(t)
		seed := cloneOf(t, bare)
		seed.Tag("v0.1.0", "HEAD")
		seed.Git("push", "-q", "origin", "v0.1.0")
		x := seed.Commit("feat: x", gitinfotest.File("x", "x"))
		y := seed.Commit("fix: y", gitinfotest.File("y", "y"))
		seed.Git("push", "-q", "origin", "main")
		px, py := cloneOf(t, bare), cloneOf(t, bare)
		px.Git("reset", "-q", "--hard", x)

		reg := newFakeRegistry()
		shared := &lockedDocker{d: &fakeDockerRunner{builder: BuilderBuildx, reg: reg}}
		image := fmt.Sprintf("registry.test/race-%d", round)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, clone := range []*gitinfotest.Repo{px, py} {
			wg.Go(func() {
				repo, err := gitinfo.Open(context.Background(), clone.Dir)
				if err != nil {
					errs[i] = err
					return
				}
				defer repo.Close()
				<-start
				_, errs[i] = Cut(context.Background(), CutDeps{
					Git: repo, Registry: shared, Docker: shared,
					Now: func() time.Time { return cutClock },
				}, CutOptions{
					Version: DefaultOptions(),
					Build:   BuildOptions{Images: []string{image}, Context: clone.Dir},
					Tagger:  "Pipeline <ci@example.com>", Push: true,
				})
			})
		}
		close(start)
		wg.Wait()

		_, winner := (&cutFixture{t: t, bare: bare}).remoteTag("v0.2.0")
		var loser error
		switch winner {
		case x:
			wins["X"]++
			loser = errs[1]
			if errs[0] != nil {
				t.Errorf("round %d: X won the tag but failed: %v", round, errs[0])
			}
		case y:
			wins["Y"]++
			loser = errs[0]
			if errs[1] != nil {
				t.Errorf("round %d: Y won the tag but failed: %v", round, errs[1])
			}
		default:
			t.Fatalf("round %d: v0.2.0 on the remote is on %q, neither X nor Y (errors %v)", round, winner, errs)
		}
		if !errors.Is(loser, ErrConflict) {
			t.Errorf("round %d: the loser's error = %v, want ErrConflict", round, loser)
		}
		shared.mu.Lock()
		builds := len(shared.d.calls)
		shared.mu.Unlock()
		if builds != 1 {
			t.Errorf("round %d: %d docker builds, want the winner's only", round, builds)
		}
		if got := (&cutFixture{t: t, reg: reg}).revisionLabel(image + ":0.2.0"); got != winner {
			t.Errorf("round %d: %s:0.2.0 carries revision %s, the tag is on %s", round, image, got, winner)
		}
	}
	t.Logf("winners over 20 rounds: %v", wins)
}

// lockedDocker serialises the fake docker and registry, which racing
// pipelines share.
type lockedDocker struct {
	mu sync.Mutex
	d  *fakeDockerRunner
}

func (l *lockedDocker) Detect(ctx context.Context) (Builder, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d.Detect(ctx)
}

func (l *lockedDocker) Run(ctx context.Context, args, env []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d.Run(ctx, args, env)
}

func (l *lockedDocker) Digest(ctx context.Context, ref string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d.reg.Digest(ctx, ref)
}

func (l *lockedDocker) Config(ctx context.Context, ref string) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d.reg.Config(ctx, ref)
}

func (l *lockedDocker) Retag(ctx context.Context, digestRef string, tags []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d.reg.Retag(ctx, digestRef, tags)
}
