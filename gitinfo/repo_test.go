package gitinfo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func open(t *testing.T, dir string, opts ...gitinfo.Option) *gitinfo.Repo {
	t.Helper()
	repo, err := gitinfo.Open(context.Background(), dir, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := repo.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return repo
}

func TestOpenFindsTheRepository(t *testing.T) {
	r := gitinfotest.New(t)
	c := r.Commit("a", File("src/pkg/x.py", "x"))
	tests := []struct {
		name string
		dir  string
	}{
		{"root", r.Dir},
		{"subdirectory", filepath.Join(r.Dir, "src", "pkg")},
		{"file", filepath.Join(r.Dir, "src", "pkg", "x.py")},
		{"relative with dots", filepath.Join(r.Dir, "src", "..", "src")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := open(t, tc.dir)
			if repo.Root() != r.Dir {
				t.Errorf("Root() = %s, want %s", repo.Root(), r.Dir)
			}
			h, err := repo.Head(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(gitinfo.Head{Commit: c, Branch: "main"}, h); diff != "" {
				t.Errorf("Head (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenNotARepository(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Join(dir, "missing-is-an-error-too")} {
		_, err := gitinfo.Open(context.Background(), d)
		if d == dir && !errors.Is(err, gitinfo.ErrNotRepository) {
			t.Errorf("Open(%s) = %v, want ErrNotRepository", d, err)
		}
		if err == nil {
			t.Errorf("Open(%s) succeeded", d)
		}
	}
	// A .git file that points nowhere is not a repository either.
	if err := os.WriteFile(filepath.Join(dir, ".git"), []byte("gitdir: /nonexistent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gitinfo.Open(context.Background(), dir); !errors.Is(err, gitinfo.ErrNotRepository) {
		t.Errorf("Open with a dangling .git file = %v, want ErrNotRepository", err)
	}
}

func TestOpenLinkedWorktree(t *testing.T) {
	r := gitinfotest.New(t)
	c := r.Commit("a")
	wt := filepath.Join(t.TempDir(), "wt")
	r.Git("worktree", "add", "-q", "-b", "other", wt)
	repo := open(t, filepath.Join(wt))
	h, err := repo.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gitinfo.Head{Commit: c, Branch: "other"}, h); diff != "" {
		t.Errorf("Head (-want +got):\n%s", diff)
	}
	if repo.Root() != wt {
		t.Errorf("Root() = %s, want %s", repo.Root(), wt)
	}
	// Objects, refs and tags come from the main repository.
	r.Tag("v1.0.0", c)
	tags, err := repo.Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]gitinfo.Tag{{Name: "v1.0.0", Commit: c}}, tags); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
	st, err := repo.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Dirty {
		t.Errorf("fresh worktree is dirty: %+v", st)
	}
}

// TestOpenExtensions covers repositories go-git v5.19 refuses to open by
// itself: sparse checkouts (worktreeConfig), blobless clones
// (partialClone) and preciousObjects, all made by the git binary.
func TestOpenExtensions(t *testing.T) {
	gitinfotest.GitPath(t)
	origin := gitinfotest.New(t)
	origin.Commit("a", File("api/a.py", "1"), File("web/w.js", "1"))
	tagged := origin.Commit("b", File("api/a.py", "2"))
	origin.Tag("v1.0.0", tagged)
	last := origin.Commit("c", File("web/w.js", "2"))
	origin.Git("config", "uploadpack.allowFilter", "true")

	tests := []struct {
		name      string
		extension string // must be set by setup, or the test proves nothing
		setup     func(t *testing.T) *gitinfotest.Repo
	}{
		{"sparse checkout", "worktreeConfig", func(t *testing.T) *gitinfotest.Repo {
			c := origin.Clone("--no-local")
			c.Git("sparse-checkout", "set", "api")
			c.Git("config", "--worktree", "core.bare", "false")
			return c
		}},
		{"blobless partial clone", "partialClone", func(t *testing.T) *gitinfotest.Repo {
			c := origin.Clone("--no-local", "--filter=blob:none")
			// git 2.39 records the promisor remote only; newer git and
			// Azure DevOps checkouts also set the extension.
			c.Git("config", "extensions.partialClone", "origin")
			return c
		}},
		{"preciousObjects on format 0", "preciousObjects", func(t *testing.T) *gitinfotest.Repo {
			c := origin.Clone("--no-local")
			c.Git("config", "core.repositoryFormatVersion", "0")
			c.Git("config", "extensions.preciousObjects", "true")
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c := tc.setup(t)
			if v := c.Git("config", "--get", "extensions."+tc.extension); v == "" {
				t.Fatalf("setup did not set extensions.%s", tc.extension)
			}
			repo := open(t, c.Dir)
			h, err := repo.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if h.Commit != last {
				t.Errorf("Head = %s, want %s", h.Commit, last)
			}
			log, err := repo.Log(ctx, gitinfo.LogQuery{Include: []string{"HEAD"}, StopAt: []string{"v1.0.0"}, Paths: []string{"web"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(log.Commits) != 1 || log.Commits[0].Hash != last {
				t.Errorf("Log = %+v, want just %s", log.Commits, last)
			}
			if _, err := repo.Status(ctx); err != nil {
				t.Errorf("Status: %v", err)
			}
		})
	}
}

func TestOpenRefusesUnknownFormats(t *testing.T) {
	gitinfotest.GitPath(t)
	dir := t.TempDir()
	gitinfotest.RunGit(t, dir, "init", "-q", "--object-format=sha256", dir)
	_, err := gitinfo.Open(context.Background(), dir)
	if err == nil {
		t.Fatal("Open of a sha256 repository succeeded, want an error")
	}
	if errors.Is(err, gitinfo.ErrNotRepository) {
		t.Errorf("Open = %v, want an error other than ErrNotRepository", err)
	}
}
