package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/Masterminds/semver/v3"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/releasetool/release/gitinfo"
)

var commitTime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeBuildGit is a repository as Build sees it.
type fakeBuildGit struct {
	head    string
	tags    []string
	shallow bool
	remote  string
	calls   int
}

func (g *fakeBuildGit) Head(context.Context) (gitinfo.Head, error) {
	g.calls++
	return gitinfo.Head{Commit: g.head, Branch: "main"}, nil
}

func (g *fakeBuildGit) Commit(_ context.Context, rev string) (gitinfo.Commit, error) {
	g.calls++
	return gitinfo.Commit{Hash: rev, Committer: gitinfo.Signature{When: commitTime.In(time.FixedZone("X", 7200))}, Message: "feat: x"}, nil
}

func (g *fakeBuildGit) Tags(context.Context) ([]gitinfo.Tag, error) {
	g.calls++
	var out []gitinfo.Tag
	for _, t := range g.tags {
		out = append(out, gitinfo.Tag{Name: t, Commit: strings.Repeat("1", 40)})
	}
	return out, nil
}

func (g *fakeBuildGit) Shallow(context.Context) (bool, error) { g.calls++; return g.shallow, nil }

func (g *fakeBuildGit) RemoteURL(_ context.Context, name string) (string, error) {
	g.calls++
	if g.remote == "" {
		return "", errors.New("no remote")
	}
	return g.remote, nil
}

// fakeRegistry holds tags → digests and digests → image configs.
type fakeRegistry struct {
	tags    map[string]string // repo:tag → digest
	configs map[string][]byte // digest → config
	retags  []string
	reads   int
	// override makes Digest answer differently for a ref (a racing push).
	override map[string]string
}

func newFakeRegistry() *fakeRegistry {
	return &fakeRegistry{tags: map[string]string{}, configs: map[string][]byte{}, override: map[string]string{}}
}

func (r *fakeRegistry) Digest(_ context.Context, ref string) (string, error) {
	r.reads++
	if d, ok := r.override[ref]; ok {
		return d, nil
	}
	return r.tags[ref], nil
}

func (r *fakeRegistry) Config(_ context.Context, ref string) ([]byte, error) {
	r.reads++
	d := r.tags[ref]
	if d == "" {
		return nil, fmt.Errorf("%s: not found", ref)
	}
	return r.configs[d], nil
}

func (r *fakeRegistry) Retag(_ context.Context, digestRef string, tags []string) error {
	repo, digest, _ := strings.Cut(digestRef, "@")
	for _, t := range tags {
		r.tags[repo+":"+t] = digest
		r.retags = append(r.retags, repo+":"+t)
	}
	return nil
}

// put stores an image whose config carries labels under repo:tag.
func (r *fakeRegistry) put(ref string, labels map[string]string) string {
	cfg, _ := json.Marshal(map[string]any{"config": map[string]any{"Labels": labels}})
	sum := sha256.Sum256(cfg)
	d := "sha256:" + hex.EncodeToString(sum[:])
	r.configs[d] = cfg
	r.tags[ref] = d
	return d
}

// fakeDockerRunner records docker invocations; a push lands in the registry.
type fakeDockerRunner struct {
	builder Builder
	reg     *fakeRegistry
	calls   [][]string
	env     [][]string
	fail    error
	built   map[string]string // local tag → labels digest (classic)
}

func (d *fakeDockerRunner) Detect(context.Context) (Builder, error) { return d.builder, nil }

func (d *fakeDockerRunner) Run(_ context.Context, args []string, env []string) error {
	d.calls = append(d.calls, args)
	d.env = append(d.env, env)
	if d.fail != nil {
		return d.fail
	}
	var tags []string
	labels := map[string]string{}
	push := false
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--tag":
			tags = append(tags, args[i+1])
			i++
		case "--label":
			k, v, _ := strings.Cut(args[i+1], "=")
			labels[k] = v
			i++
		case "--push":
			push = true
		}
	}
	if d.built == nil {
		d.built = map[string]string{}
	}
	if args[0] == "push" {
		d.reg.tags[args[1]] = d.built[args[1]]
		return nil
	}
	digest := d.reg.put("local", labels)
	delete(d.reg.tags, "local")
	for _, t := range tags {
		d.built[t] = digest
		if push {
			d.reg.tags[t] = digest
		}
	}
	return nil
}

// buildFixture is a repository checkout with a Python project.
func buildFixture(t *testing.T, dockerfile string, pyproject string) string {
	t.Helper()
	dir := t.TempDir()
	if dockerfile != "" {
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if pyproject != "" {
		if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte(pyproject), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	headCommit    = "0123456789abcdef0123456789abcdef01234567"
	testPyproject = "[project]\nname = \"pythonapp\"\ndescription = \"Sample\"\nlicense = \"MIT\"\n"
	testDF        = "ARG PYTHON_IMAGE=python:3.12-slim\nFROM ${PYTHON_IMAGE} AS build\nFROM build\n"
)

type buildEnv struct {
	git    *fakeBuildGit
	reg    *fakeRegistry
	docker *fakeDockerRunner
	deps   BuildDeps
	warns  []string
}

func newBuildEnv(builder Builder) *buildEnv {
	e := &buildEnv{
		git: &fakeBuildGit{head: headCommit, tags: []string{"v1.2.0", "v2.0.0", "not-a-version", "v1.3"}, remote: "https://ci:s3cr3tT0ken@git.example.org/org/pythonapp.git"},
		reg: newFakeRegistry(),
	}
	e.docker = &fakeDockerRunner{builder: builder, reg: e.reg}
	e.deps = BuildDeps{
		Git:      e.git,
		Registry: e.reg,
		Docker:   e.docker,
		Warnf:    func(f string, a ...any) { e.warns = append(e.warns, fmt.Sprintf(f, a...)) },
	}
	return e
}

func TestBuildPushClassic(t *testing.T) {
	e := newBuildEnv(BuilderClassic)
	dir := buildFixture(t, testDF, testPyproject)
	res, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v",
		Images:    []string{"127.0.0.1:5000/app"},
		Context:   dir,
		Version:   "1.3.0",
		Push:      true,
		BuildArgs: []KV{{"PYTHON_IMAGE", "registry.local/py:3.11"}},
	})
	if err != nil {
		t.Fatalf("Build() error = %v", err)
	}
	wantTags := []string{"1.3.0", "sha-0123456789ab", "1.3", "1"}
	digest := e.reg.tags["127.0.0.1:5000/app:1.3.0"]
	if digest == "" {
		t.Fatal("the exact tag was not pushed")
	}
	want := &BuildResult{
		Version:  "1.3.0",
		Revision: headCommit,
		Images:   []ImageResult{{Repository: "127.0.0.1:5000/app", Tags: wantTags, Digest: digest}},
		Labels: map[string]string{
			LabelVersion:       "1.3.0",
			LabelRevision:      headCommit,
			LabelSource:        "https://git.example.org/org/pythonapp",
			LabelCreated:       "2024-03-01T12:00:00Z",
			LabelTitle:         "pythonapp",
			LabelDescription:   "Sample",
			LabelLicenses:      "MIT",
			LabelURL:           "",
			LabelDocumentation: "",
			LabelAuthors:       "",
			LabelVendor:        "",
			LabelBaseName:      "registry.local/py:3.11",
			LabelBaseDigest:    "",
		},
	}
	if diff := cmp.Diff(want, res, cmpIgnoreWarnings); diff != "" {
		t.Errorf("Build() result mismatch (-want +got):\n%s", diff)
	}
	// One build, then one push per tag, exact first.
	var pushes []string
	for _, c := range e.docker.calls[1:] {
		pushes = append(pushes, strings.Join(c, " "))
	}
	wantPushes := []string{"push 127.0.0.1:5000/app:1.3.0", "push 127.0.0.1:5000/app:sha-0123456789ab", "push 127.0.0.1:5000/app:1.3", "push 127.0.0.1:5000/app:1"}
	if diff := cmp.Diff(wantPushes, pushes); diff != "" {
		t.Errorf("docker pushes mismatch (-want +got):\n%s", diff)
	}
	if e.docker.calls[0][0] != "build" || !contains(e.docker.calls[0], "--iidfile") {
		t.Errorf("first call = %v, want a classic build with --iidfile", e.docker.calls[0])
	}
	if diff := cmp.Diff([]string{"SOURCE_DATE_EPOCH=1709294400"}, e.docker.env[0]); diff != "" {
		t.Errorf("docker env mismatch (-want +got):\n%s", diff)
	}
	for _, s := range append(e.warns, fmt.Sprint(res), fmt.Sprint(e.docker.calls)) {
		if strings.Contains(s, "s3cr3tT0ken") {
			t.Errorf("the remote's token leaked: %s", s)
		}
	}
}

var cmpIgnoreWarnings = cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Warnings" }, cmp.Ignore())

func TestBuildPushBuildxTwoRegistries(t *testing.T) {
	e := newBuildEnv(BuilderBuildx)
	dir := buildFixture(t, testDF, "")
	res, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v",
		Images:    []string{"127.0.0.1:5000/app", "reg.example/team/app"},
		Context:   dir,
		Version:   "2.0.1",
		Push:      true,
		Platforms: []string{"linux/amd64", "linux/arm64"},
		Tags:      TagOptions{NoSHATag: true},
	})
	if err != nil {
		t.Fatalf("Build() error = %v", err)
	}
	if len(e.docker.calls) != 1 || e.docker.calls[0][0] != "buildx" || !contains(e.docker.calls[0], "--push") || contains(e.docker.calls[0], "--metadata-file") {
		t.Fatalf("docker calls = %v, want one buildx build --push", e.docker.calls)
	}
	for _, img := range res.Images {
		if diff := cmp.Diff([]string{"2.0.1", "2.0", "2", "latest"}, img.Tags); diff != "" {
			t.Errorf("%s tags mismatch (-want +got):\n%s", img.Repository, diff)
		}
		if img.Digest == "" || img.Digest != e.reg.tags[img.Repository+":latest"] {
			t.Errorf("%s digest = %q, registry has %q", img.Repository, img.Digest, e.reg.tags[img.Repository+":latest"])
		}
	}
	if res.Labels[LabelTitle] != "" || res.Labels[LabelBaseName] != "python:3.12-slim" {
		t.Errorf("labels = %v", res.Labels)
	}
}

func TestBuildDryRun(t *testing.T) {
	e := newBuildEnv(BuilderBuildx)
	dir := buildFixture(t, testDF, testPyproject)
	res, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v",
		Images:  []string{"app"},
		Context: dir,
		Version: "1.3.0-rc.1",
		Push:    true,
		DryRun:  true,
	})
	if err != nil {
		t.Fatalf("Build() error = %v", err)
	}
	if len(e.docker.calls) != 0 || e.reg.reads != 0 {
		t.Errorf("a dry run ran docker %d times and read the registry %d times", len(e.docker.calls), e.reg.reads)
	}
	if len(res.Commands) != 1 || !contains(res.Commands[0], "app:1.3.0-rc.1") || !contains(res.Commands[0], "--push") {
		t.Errorf("dry-run commands = %v", res.Commands)
	}
	if !contains(res.Commands[0], "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PYTHONAPP=1.3.0rc1") {
		t.Errorf("dry-run command lacks the pretend version: %v", res.Commands[0])
	}
}

func TestBuildExactTagImmutable(t *testing.T) {
	dir := buildFixture(t, testDF, "")
	other := strings.Repeat("f", 40)
	t.Run("held by another commit", func(t *testing.T) {
		e := newBuildEnv(BuilderClassic)
		before := e.reg.put("app:1.3.0", map[string]string{LabelRevision: other})
		_, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.3.0", Push: true})
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "commit "+other) {
			t.Fatalf("Build() error = %v, want ErrConflict naming the other commit", err)
		}
		if len(e.docker.calls) != 0 || e.reg.tags["app:1.3.0"] != before {
			t.Errorf("docker ran (%v) or the exact tag moved", e.docker.calls)
		}
		if !strings.Contains(Hint(err), "--force") {
			t.Errorf("hint = %q, want --force", Hint(err))
		}
	})
	t.Run("held by an unlabeled image", func(t *testing.T) {
		e := newBuildEnv(BuilderClassic)
		e.reg.put("app:1.3.0", nil)
		_, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.3.0", Push: true})
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "without a revision label") {
			t.Fatalf("Build() error = %v, want ErrConflict", err)
		}
	})
	t.Run("force overwrites", func(t *testing.T) {
		e := newBuildEnv(BuilderClassic)
		before := e.reg.put("app:1.3.0", map[string]string{LabelRevision: other})
		res, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.3.0", Push: true, Force: true})
		if err != nil {
			t.Fatalf("Build() error = %v", err)
		}
		if res.Images[0].Digest == before {
			t.Errorf("the exact tag still holds the other image")
		}
	})
	t.Run("same commit: re-run completes the tags without a build", func(t *testing.T) {
		e := newBuildEnv(BuilderBuildx)
		before := e.reg.put("app:1.3.0", map[string]string{LabelRevision: headCommit})
		res, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v",
			Images: []string{"app", "mirror.example/app"}, Context: dir, Version: "1.3.0", Push: true,
		})
		if err != nil {
			t.Fatalf("Build() error = %v", err)
		}
		if res.Images[0].Digest != before || !res.Images[0].Existing {
			t.Errorf("app = %+v, want the existing digest %s", res.Images[0], before)
		}
		if res.Images[1].Existing || res.Images[1].Digest == "" {
			t.Errorf("mirror = %+v, want a fresh build", res.Images[1])
		}
		if len(e.docker.calls) != 1 || slices.Contains(e.docker.calls[0], "app:1.3.0") || !contains(e.docker.calls[0], "mirror.example/app:1.3.0") {
			t.Errorf("docker calls = %v, want one build for the mirror only", e.docker.calls)
		}
		if diff := cmp.Diff([]string{"app:1.3.0", "app:sha-0123456789ab", "app:1.3", "app:1"}, e.reg.retags); diff != "" {
			t.Errorf("retags mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestBuildTagsDisagree(t *testing.T) {
	e := newBuildEnv(BuilderBuildx)
	e.reg.override["app:1.3"] = "sha256:" + strings.Repeat("9", 64)
	_, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: buildFixture(t, testDF, ""), Version: "1.3.0", Push: true})
	if err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Errorf("Build() error = %v, want tags disagreeing", err)
	}
}

func TestBuildInputErrors(t *testing.T) {
	dir := buildFixture(t, testDF, testPyproject)
	noPy := buildFixture(t, testDF, "")
	tests := []struct {
		name     string
		opts     BuildOptions
		wantIs   error
		want     string
		wantHint string
	}{
		{name: "no image", opts: BuildOptions{TagPrefix: "v", Context: dir, Version: "1.0.0"}, wantIs: ErrInvalid, want: "no image repository", wantHint: "--image"},
		{name: "uppercase repository", opts: BuildOptions{TagPrefix: "v", Images: []string{"Org/App"}, Context: dir, Version: "1.0.0"}, wantIs: ErrInvalid, want: "must be lower case", wantHint: "--image org/app"},
		{name: "repository with tag", opts: BuildOptions{TagPrefix: "v", Images: []string{"app:1"}, Context: dir, Version: "1.0.0"}, wantIs: ErrInvalid, want: "has a tag"},
		{name: "duplicate repository", opts: BuildOptions{TagPrefix: "v", Images: []string{"app", "app"}, Context: dir, Version: "1.0.0"}, wantIs: ErrInvalid, want: "twice"},
		{name: "context missing", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: filepath.Join(dir, "nope"), Version: "1.0.0"}, wantIs: ErrInvalid, want: "not a directory"},
		{name: "dockerfile missing", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Dockerfile: filepath.Join(dir, "Nope"), Version: "1.0.0"}, want: "does not exist", wantHint: "--file"},
		{name: "bad platform", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.0.0", Platforms: []string{"amd64"}}, wantIs: ErrInvalid, want: "os/arch"},
		{name: "not semver", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.2"}, wantIs: ErrInvalid, want: "not a semantic version"},
		{name: "build metadata", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.2.3+build.5"}, wantIs: ErrInvalid, want: "build metadata", wantHint: "drop the +build.5"},
		{name: "metadata on a non-dev prerelease", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.2.3-rc.1+g1a2b3c4"}, wantIs: ErrInvalid, want: "build metadata"},
		{name: "python prerelease without pep440 form", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.3.0-feature.x"}, wantIs: ErrInvalid, want: "cannot be built as a Python package", wantHint: "rc.N"},
		{name: "pep440 style without pep440 form", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: noPy, Version: "1.3.0-feature.x", Tags: TagOptions{Style: TagStylePEP440}}, wantIs: ErrInvalid, want: "no PEP 440 form"},
		{name: "classic multi-platform", opts: BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: "1.0.0", Builder: BuilderClassic, Platforms: []string{"linux/amd64", "linux/arm64"}}, wantIs: ErrInvalid, want: "one platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBuildEnv(BuilderBuildx)
			_, err := Build(t.Context(), e.deps, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build() error = %v, want it to contain %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Build() error = %v, want %v", err, tt.wantIs)
			}
			if tt.wantHint != "" && !strings.Contains(Hint(err), tt.wantHint) {
				t.Errorf("hint = %q, want it to contain %q", Hint(err), tt.wantHint)
			}
			if len(e.docker.calls) != 0 || e.reg.reads != 0 {
				t.Errorf("docker or the registry was used before the input was checked")
			}
		})
	}
}

func TestBuildValidatesRepositoriesFirst(t *testing.T) {
	e := newBuildEnv(BuilderBuildx)
	_, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v", Images: []string{"ok", "Bad"}, Context: t.TempDir(), Version: "1.0.0"})
	if !errors.Is(err, ErrInvalid) || e.git.calls != 0 {
		t.Errorf("Build() error = %v after %d git calls; want ErrInvalid before any", err, e.git.calls)
	}
}

func TestBuildVersions(t *testing.T) {
	dir := buildFixture(t, testDF, testPyproject)
	tests := []struct {
		name     string
		version  string
		next     string
		latest   LatestMode
		git      fakeBuildGit
		wantTags []string
		warn     string
	}{
		{name: "derived by the version policy", next: "1.3.0", wantTags: []string{"1.3.0", "1.3", "1"}},
		{name: "v prefix accepted", version: "v2.1.0", wantTags: []string{"2.1.0", "2.1", "2", "latest"}},
		{name: "dev version with metadata", version: "2.1.0-dev.4+g1a2b3c4", wantTags: []string{"2.1.0-dev.4"}},
		{name: "dirty dev version", version: "2.1.0-dev.4+g1a2b3c4.dirty", wantTags: []string{"2.1.0-dev.4"}},
		{name: "shallow clone without tags", version: "2.1.0", git: fakeBuildGit{shallow: true}, wantTags: []string{"2.1.0"}, warn: "released versions are unknown"},
		// A tag-triggered checkout (git clone --depth 1 --branch v1.3.1)
		// holds only HEAD's tag, though v2.0.0 exists upstream: latest,
		// 1 and 1.3 must not move on that evidence.
		{name: "shallow clone with HEAD's tag only", version: "1.3.1", git: fakeBuildGit{shallow: true, tags: []string{"v1.3.1"}}, wantTags: []string{"1.3.1"}, warn: "git fetch --unshallow --tags"},
		{name: "shallow clone with other tags", version: "1.3.1", git: fakeBuildGit{shallow: true, tags: []string{"v1.3.0", "v1.3.1"}}, wantTags: []string{"1.3.1"}, warn: "released versions are unknown"},
		{name: "shallow clone, latest always", version: "1.3.1", latest: LatestAlways, git: fakeBuildGit{shallow: true, tags: []string{"v1.3.1"}}, wantTags: []string{"1.3.1", "latest"}, warn: "no X.Y, X or channel tag"},
		{name: "full clone with every tag", version: "1.3.1", git: fakeBuildGit{tags: []string{"v1.3.0", "v2.0.0", "v1.3.1"}}, wantTags: []string{"1.3.1", "1.3", "1"}},
		{name: "no tags, not shallow: first release", version: "0.1.0", git: fakeBuildGit{}, wantTags: []string{"0.1.0", "0.1", "latest"}},
		{name: "custom prefix", version: "app/v1.1.0", git: fakeBuildGit{tags: []string{"app/v1.0.0", "v9.0.0"}}, wantTags: []string{"1.1.0", "1.1", "1", "latest"}},
		{name: "bare tags", version: "0.9.1", git: fakeBuildGit{tags: []string{"1.0.0", "v9.0.0"}}, wantTags: []string{"0.9.1", "0.9"}},
		{name: "remote without web address", version: "2.1.0", git: fakeBuildGit{tags: []string{"v2.0.0"}, remote: "file:///srv/repo.git"}, wantTags: []string{"2.1.0", "2.1", "2", "latest"}, warn: "no source label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBuildEnv(BuilderBuildx)
			if tt.git.tags != nil || tt.git.shallow || tt.name == "no tags, not shallow: first release" || tt.git.remote != "" {
				g := tt.git
				g.head = headCommit
				e.git = &g
				e.deps.Git = &g
			}
			if tt.next != "" {
				e.deps.NextVersion = func(context.Context) (*Result, error) {
					return &Result{Version: tt.next, Bump: BumpMinor, SemVer: semver.MustParse(tt.next)}, nil
				}
			}
			opts := BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: dir, Version: tt.version, Tags: TagOptions{NoSHATag: true, Latest: tt.latest}}
			switch {
			case strings.HasPrefix(tt.version, "app/"):
				opts.TagPrefix = "app/v"
			case tt.name == "bare tags":
				opts.TagPrefix = ""
			}
			res, err := Build(t.Context(), e.deps, opts)
			if err != nil {
				t.Fatalf("Build() error = %v", err)
			}
			if diff := cmp.Diff(tt.wantTags, res.Images[0].Tags); diff != "" {
				t.Errorf("tags mismatch (-want +got):\n%s", diff)
			}
			warns := strings.Join(e.warns, "\n")
			if (tt.warn == "") != (warns == "") || !strings.Contains(warns, tt.warn) {
				t.Errorf("warnings = %q, want %q", warns, tt.warn)
			}
			if !contains(e.docker.calls[0], "--load") {
				t.Errorf("a build without --push should --load: %v", e.docker.calls[0])
			}
		})
	}
}

// TestBuildNothingToRelease: when no commit since the last release changes
// the version, nothing is built (exit 0 at the command line) — rebuilding
// the last release from a later commit would put another revision under
// its exact tag.
func TestBuildNothingToRelease(t *testing.T) {
	e := newBuildEnv(BuilderBuildx)
	e.deps.NextVersion = func(context.Context) (*Result, error) {
		return &Result{Version: "2.0.0", SemVer: semver.MustParse("2.0.0"), Bump: BumpNone, PreviousTag: "v2.0.0", PreviousVersion: "2.0.0"}, nil
	}
	res, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: buildFixture(t, testDF, ""), Push: true})
	if err != nil {
		t.Fatalf("Build() error = %v", err)
	}
	if res.Nothing == "" || !strings.Contains(res.Nothing, "v2.0.0") {
		t.Errorf("Nothing = %q, want the reason naming v2.0.0", res.Nothing)
	}
	if res.Version != "2.0.0" || len(res.Images) != 0 {
		t.Errorf("result = %+v, want version 2.0.0 and no image", res)
	}
	if len(e.docker.calls) != 0 {
		t.Errorf("docker ran: %v", e.docker.calls)
	}
}

func TestBuildDockerFails(t *testing.T) {
	e := newBuildEnv(BuilderBuildx)
	e.docker.fail = &DockerError{Command: "buildx build", ExitCode: 2, Stderr: "ERROR: boom"}
	_, err := Build(t.Context(), e.deps, BuildOptions{TagPrefix: "v", Images: []string{"app"}, Context: buildFixture(t, testDF, ""), Version: "1.0.0", Push: true})
	var de *DockerError
	if !errors.As(err, &de) || de.ExitCode != 2 {
		t.Errorf("Build() error = %v, want the DockerError", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s || strings.Contains(x, s) {
			return true
		}
	}
	return false
}
