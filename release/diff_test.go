package release_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release"
)

// history is a repository for diffs:
//
//	c1 ── c2 ── c3 ── c4   main
//	  └── s1 ── s2         side
type history struct {
	r                      *gitinfotest.Repo
	c1, c2, c3, c4, s1, s2 string
}

func newHistory(t *testing.T) history {
	r := gitinfotest.New(t)
	h := history{r: r}
	h.c1 = r.Commit("feat: first", gitinfotest.File("a", "1"))
	r.Tag("v1.0.0", h.c1)
	r.Branch("side")
	h.c2 = r.Commit("fix(cart): handle empty carts", gitinfotest.File("a", "2"))
	h.c3 = r.Commit("docs: readme", gitinfotest.File("a", "3"))
	h.c4 = r.Commit("feat(api): add orders", gitinfotest.File("a", "4"))
	r.Checkout("side")
	h.s1 = r.Commit("fix: side fix", gitinfotest.File("b", "1"))
	h.s2 = r.Commit("perf: side speed", gitinfotest.File("b", "2"))
	r.Checkout("main")
	return h
}

func openRepo(t *testing.T, dir string) *gitinfo.Repo {
	t.Helper()
	repo, err := gitinfo.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

func hashes(cs []gitinfo.Commit) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Hash)
	}
	return out
}

func TestDiff(t *testing.T) {
	h := newHistory(t)
	repo := openRepo(t, h.r.Dir)
	reg := registrytest.New(t)
	push := func(tag string, seed uint64, rev string) {
		reg.PushImage(t, "app", tag, registrytest.NewImage(registrytest.ImageSpec{Seed: seed, Labels: oci("revision=" + rev)}))
	}
	push("c1", 1, h.c1)
	push("c2", 2, h.c2)
	push("c2-again", 3, h.c2) // another build of the same commit
	push("c4", 4, h.c4)
	push("s2", 5, h.s2)
	push("short", 6, h.c4[:10]) // a pipeline that labels short hashes
	c := newImages(t)

	tests := []struct {
		name           string
		old, new       string
		kind           string
		added, removed []string
	}{
		{name: "forward", old: "c1", new: "c4", kind: release.ChangeForward, added: []string{h.c4, h.c3, h.c2}, removed: []string{}},
		{name: "rollback", old: "c4", new: "c2", kind: release.ChangeRollback, added: []string{}, removed: []string{h.c4, h.c3}},
		{name: "same commit", old: "c2", new: "c2-again", kind: release.ChangeSame, added: []string{}, removed: []string{}},
		{name: "diverged", old: "s2", new: "c4", kind: release.ChangeDiverged, added: []string{h.c4, h.c3, h.c2}, removed: []string{h.s2, h.s1}},
		{name: "short revision label", old: "c1", new: "short", kind: release.ChangeForward, added: []string{h.c4, h.c3, h.c2}, removed: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := release.Diff(t.Context(), c, reg.Host+"/app:"+tt.old, reg.Host+"/app:"+tt.new, release.DiffOptions{Git: repo})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Ranges) != 1 {
				t.Fatalf("%d ranges, want 1", len(res.Ranges))
			}
			rng := res.Ranges[0]
			if rng.Kind != tt.kind {
				t.Errorf("kind = %s, want %s", rng.Kind, tt.kind)
			}
			if diff := cmp.Diff(tt.added, hashes(rng.Added)); diff != "" {
				t.Errorf("added (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.removed, hashes(rng.Removed)); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if len(rng.OldRevision) != 40 || len(rng.NewRevision) != 40 {
				t.Errorf("revisions %q, %q: want full hashes", rng.OldRevision, rng.NewRevision)
			}
			// The notes are release changelog's, for the same range.
			want, err := release.Changelog(t.Context(), repo, rng.OldRevision, rng.NewRevision, release.Options{TagPrefix: "v"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Notes.Markdown(), rng.Notes.Markdown()); diff != "" {
				t.Errorf("notes (-changelog +diff):\n%s", diff)
			}
		})
	}
}

func TestDiffNotes(t *testing.T) {
	h := newHistory(t)
	repo := openRepo(t, h.r.Dir)
	reg := registrytest.New(t)
	reg.PushImage(t, "app", "old", registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Labels: oci("revision=" + h.c1)}))
	reg.PushImage(t, "app", "new", registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Labels: oci("revision=" + h.c4)}))
	res, err := release.Diff(t.Context(), newImages(t), reg.Host+"/app:old", reg.Host+"/app:new", release.DiffOptions{Git: repo})
	if err != nil {
		t.Fatal(err)
	}
	want := "### Features\n\n- **api:** add orders (" + h.c4[:7] + ")\n\n### Fixes\n\n- **cart:** handle empty carts (" + h.c2[:7] + ")\n"
	if diff := cmp.Diff(want, res.Ranges[0].Notes.Markdown()); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestDiffPerPlatform(t *testing.T) {
	h := newHistory(t)
	repo := openRepo(t, h.r.Dir)
	reg := registrytest.New(t)
	img := func(seed uint64, platform, rev string) *registrytest.Image {
		return registrytest.NewImage(registrytest.ImageSpec{Seed: seed, Platform: platform, Labels: oci("revision=" + rev)})
	}
	// prod runs c1 everywhere; staging has amd64 at c4 but arm64 still at c2.
	reg.PushIndex(t, "app", "prod", registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{
		img(1, "linux/amd64", h.c1), img(2, "linux/arm64", h.c1)}}))
	reg.PushIndex(t, "app", "staging", registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{
		img(3, "linux/amd64", h.c4), img(4, "linux/arm64", h.c2), img(5, "linux/s390x", h.c4)}}))
	c := newImages(t)

	type rng struct {
		Platforms []string
		Old, New  string
		Kind      string
	}
	tests := []struct {
		name     string
		platform string
		want     []rng
		unpaired []string
	}{
		{name: "every platform", want: []rng{
			{[]string{"linux/amd64", "linux/s390x"}, h.c1, h.c4, release.ChangeForward},
			{[]string{"linux/arm64"}, h.c1, h.c2, release.ChangeForward},
		}},
		{name: "one platform", platform: "linux/arm64", want: []rng{
			{nil, h.c1, h.c2, release.ChangeForward},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := release.Diff(t.Context(), c, reg.Host+"/app:prod", reg.Host+"/app:staging", release.DiffOptions{Git: repo, Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			var got []rng
			for _, r := range res.Ranges {
				got = append(got, rng{r.Platforms, r.OldRevision, r.NewRevision, r.Kind})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ranges (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.unpaired, res.Unpaired); diff != "" {
				t.Errorf("unpaired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffErrors(t *testing.T) {
	h := newHistory(t)
	repo := openRepo(t, h.r.Dir)
	shallow := h.r.Clone("--depth=2", "--no-single-branch")
	shallowRepo := openRepo(t, shallow.Dir)
	reg := registrytest.New(t)
	push := func(tag string, seed uint64, labels map[string]string) {
		reg.PushImage(t, "app", tag, registrytest.NewImage(registrytest.ImageSpec{Seed: seed, Labels: labels}))
	}
	push("c1", 1, oci("revision="+h.c1))
	push("c2", 2, oci("revision="+h.c2))
	push("c4", 3, oci("revision="+h.c4))
	push("s2", 4, oci("revision="+h.s2))
	push("elsewhere", 5, oci("revision="+revC))
	push("unlabeled", 6, nil)
	push("branch-name", 7, oci("revision=main"))
	c := newImages(t)
	tests := []struct {
		name     string
		repo     *gitinfo.Repo
		old, new string
		want     error
		text     string
		hint     string
	}{
		{name: "commit not in the clone", repo: repo, old: "c1", new: "elsewhere", want: release.ErrHistory,
			text: "commit " + revC + " is not in the local clone", hint: "git remote add origin <the repository the image was built from>, then git fetch origin " + revC},
		{name: "commit beyond a shallow clone", repo: shallowRepo, old: "c2", new: "c4", want: release.ErrHistory,
			text: "is not in the local clone", hint: "git fetch --unshallow origin (this clone is shallow)"},
		{name: "range cut by a shallow clone", repo: shallowRepo, old: "s2", new: "c4", want: release.ErrHistory,
			text: "shallow clone", hint: "git fetch --unshallow origin"},
		{name: "image without revision", repo: repo, old: "unlabeled", new: "c4", want: release.ErrNoRevision,
			text: "app:unlabeled has no", hint: "release build"},
		{name: "revision that is no hash", repo: repo, old: "branch-name", new: "c4",
			text: `the image's revision "main" is not a commit hash`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := release.Diff(t.Context(), c, reg.Host+"/app:"+tt.old, reg.Host+"/app:"+tt.new, release.DiffOptions{Git: tt.repo})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want it to say %q", err, tt.text)
			}
			if !strings.Contains(release.Hint(err), tt.hint) {
				t.Errorf("hint = %q, want it to say %q", release.Hint(err), tt.hint)
			}
		})
	}
}

func TestInspectGit(t *testing.T) {
	h := newHistory(t)
	h.r.Tag("v1.1.0", h.c4)
	h.r.AnnotatedTag("deployed/prod", h.c4, "prod")
	repo := openRepo(t, h.r.Dir)
	reg := registrytest.New(t)
	reg.PushImage(t, "app", "c4", registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Labels: oci("revision=" + h.c4)}))
	reg.PushImage(t, "app", "elsewhere", registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Labels: oci("revision=" + revC)}))
	c := newImages(t)

	info, err := release.Inspect(t.Context(), c, reg.Host+"/app:c4", release.InspectOptions{Git: repo})
	if err != nil {
		t.Fatal(err)
	}
	want := &release.CommitInfo{
		Hash: h.c4, Subject: "feat(api): add orders", Author: gitinfotest.Name + " <" + gitinfotest.Email + ">",
		Date: gitinfotest.Time(3).Format("2006-01-02T15:04:05Z07:00"), Tags: []string{"deployed/prod", "v1.1.0"},
	}
	if diff := cmp.Diff(want, info.Commit); diff != "" {
		t.Errorf("commit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, info.Platforms[0].Commit); diff != "" {
		t.Errorf("platform's commit (-want +got):\n%s", diff)
	}

	clone := openRepo(t, h.r.Clone().Dir)
	_, err = release.Inspect(t.Context(), c, reg.Host+"/app:elsewhere", release.InspectOptions{Git: clone})
	if !errors.Is(err, release.ErrHistory) || release.Hint(err) != "git fetch origin "+revC {
		t.Errorf("err = %v (hint %q), want ErrHistory with git fetch origin %s", err, release.Hint(err), revC)
	}
}

// TestFetchHint: the fetch command of a missing commit names the remote
// the clone would fetch from, not "origin" whatever the clone calls it.
func TestFetchHint(t *testing.T) {
	h := newHistory(t)
	reg := registrytest.New(t)
	reg.PushImage(t, "app", "elsewhere", registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Labels: oci("revision=" + revC)}))
	c := newImages(t)
	tests := []struct {
		name  string
		clone func() *gitinfotest.Repo
		hint  string
	}{
		{"the remote the branch tracks", func() *gitinfotest.Repo {
			r := h.r.Clone("--origin=upstream")
			r.AddRemote("fork", "https://git.example.com/me/app")
			return r
		}, "git fetch upstream " + revC},
		{"the only remote, HEAD detached", func() *gitinfotest.Repo {
			r := h.r.Clone("--origin=upstream")
			r.Detach()
			return r
		}, "git fetch upstream " + revC},
		{"origin among several, HEAD detached", func() *gitinfotest.Repo {
			r := h.r.Clone()
			r.AddRemote("fork", "https://git.example.com/me/app")
			r.Detach()
			return r
		}, "git fetch origin " + revC},
		{"a branch tracking a local branch", func() *gitinfotest.Repo {
			r := h.r.Clone("--origin=upstream")
			r.Git("config", "branch.main.remote", ".")
			return r
		}, "git fetch upstream " + revC},
		{"several remotes, none tracked, no origin", func() *gitinfotest.Repo {
			r := h.r.Clone("--origin=upstream")
			r.AddRemote("fork", "https://git.example.com/me/app")
			r.Detach()
			return r
		}, "git fetch <remote> " + revC + ", naming the remote that has it (this clone has fork, upstream)"},
		{"no remote", func() *gitinfotest.Repo { return h.r },
			"this clone has no remote: git remote add origin <the repository the image was built from>, then git fetch origin " + revC},
		{"shallow", func() *gitinfotest.Repo { return h.r.Clone("--origin=upstream", "--depth=1") },
			"git fetch --unshallow upstream (this clone is shallow)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := openRepo(t, tt.clone().Dir)
			_, err := release.Inspect(t.Context(), c, reg.Host+"/app:elsewhere", release.InspectOptions{Git: repo})
			if !errors.Is(err, release.ErrHistory) {
				t.Fatalf("err = %v, want ErrHistory", err)
			}
			if got := release.Hint(err); got != tt.hint {
				t.Errorf("hint:\n got  %s\n want %s", got, tt.hint)
			}
		})
	}
}
