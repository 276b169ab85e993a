package gitinfo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name  string
		dirty func(t *testing.T, r *gitinfotest.Repo)
		want  gitinfo.Status
	}{
		{
			name:  "clean",
			dirty: func(t *testing.T, r *gitinfotest.Repo) {},
			want:  gitinfo.Status{},
		},
		{
			name:  "ignored files do not count",
			dirty: func(t *testing.T, r *gitinfotest.Repo) { r.WriteFile("build/out.bin", "x") },
			want:  gitinfo.Status{},
		},
		{
			name:  "modified",
			dirty: func(t *testing.T, r *gitinfotest.Repo) { r.WriteFile("app/main.py", "changed\n") },
			want:  gitinfo.Status{Dirty: true, Entries: []gitinfo.StatusEntry{{Code: " M", Path: "app/main.py"}}},
		},
		{
			name:  "untracked",
			dirty: func(t *testing.T, r *gitinfotest.Repo) { r.WriteFile("notes.txt", "x") },
			want:  gitinfo.Status{Dirty: true, Entries: []gitinfo.StatusEntry{{Code: "??", Path: "notes.txt"}}},
		},
		{
			name: "deleted",
			dirty: func(t *testing.T, r *gitinfotest.Repo) {
				if err := os.Remove(filepath.Join(r.Dir, "README.md")); err != nil {
					t.Fatal(err)
				}
			},
			want: gitinfo.Status{Dirty: true, Entries: []gitinfo.StatusEntry{{Code: " D", Path: "README.md"}}},
		},
		{
			name: "many changes are summarised",
			dirty: func(t *testing.T, r *gitinfotest.Repo) {
				for i := 0; i < 12; i++ {
					r.WriteFile(fmt.Sprintf("new%02d.txt", i), "x")
				}
			},
			want: gitinfo.Status{Dirty: true, More: 2, Entries: func() []gitinfo.StatusEntry {
				var e []gitinfo.StatusEntry
				for i := 0; i < 10; i++ {
					e = append(e, gitinfo.StatusEntry{Code: "??", Path: fmt.Sprintf("new%02d.txt", i)})
				}
				return e
			}()},
		},
	}
	backends := []struct {
		name string
		opts []gitinfo.Option
	}{
		{"git binary", nil},
		{"go-git", []gitinfo.Option{gitinfo.WithGitBinary("")}},
	}
	for _, b := range backends {
		for _, tc := range tests {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				if b.opts == nil {
					gitinfotest.GitPath(t)
				}
				r := gitinfotest.New(t)
				r.Commit("a", File("app/main.py", "print()\n"), File("README.md", "x\n"), File(".gitignore", "build/\n"))
				tc.dirty(t, r)
				got, err := open(t, r.Dir, b.opts...).Status(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Status (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestStatusStagedRename(t *testing.T) {
	r := gitinfotest.New(t)
	r.Commit("a", File("old name.txt", "content\n"))
	r.Git("mv", "old name.txt", "new name.txt")
	got, err := open(t, r.Dir).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := gitinfo.Status{Dirty: true, Entries: []gitinfo.StatusEntry{{Code: "R ", Path: "new name.txt"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}
}

// TestStatusUsesTheGitBinary: Status asks the git binary (fast on large
// worktrees) whenever there is one, found on PATH by default, and falls back
// to go-git only when git is disabled or refuses the repository. A wrapper
// logs each argv git is run with.
func TestStatusUsesTheGitBinary(t *testing.T) {
	realGit := gitinfotest.GitPath(t)
	const statusArgs = "status --porcelain=v1 -z --untracked-files=normal"
	tests := []struct {
		name string
		// onPath puts the logging wrapper first on PATH as "git".
		onPath bool
		// refuse makes the wrapper fail like git does on a repository
		// owned by someone else.
		refuse bool
		opts   func(wrapper string) []gitinfo.Option
		want   []string // argv lines the wrapper logged
	}{
		{
			name:   "git on PATH by default",
			onPath: true,
			opts:   func(string) []gitinfo.Option { return nil },
			want:   []string{statusArgs},
		},
		{
			name: "WithGitBinary",
			opts: func(w string) []gitinfo.Option { return []gitinfo.Option{gitinfo.WithGitBinary(w)} },
			want: []string{statusArgs},
		},
		{
			name:   "git refusing the repository falls back to go-git",
			refuse: true,
			opts:   func(w string) []gitinfo.Option { return []gitinfo.Option{gitinfo.WithGitBinary(w)} },
			want:   []string{statusArgs},
		},
		{
			name:   "WithGitBinary empty never runs git",
			onPath: true,
			opts:   func(string) []gitinfo.Option { return []gitinfo.Option{gitinfo.WithGitBinary("")} },
			want:   nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := gitinfotest.New(t)
			r.Commit("a", File("app/main.py", "print()\n"))
			r.WriteFile("app/main.py", "changed\n")
			r.WriteFile("notes.txt", "x")

			bin := t.TempDir()
			argv := filepath.Join(t.TempDir(), "argv")
			run := "exec '" + realGit + "' \"$@\"\n"
			if tc.refuse {
				run = "echo \"fatal: detected dubious ownership in repository at '$PWD'\" >&2\nexit 128\n"
			}
			wrapper := filepath.Join(bin, "git")
			script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + argv + "'\n" + run
			if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.onPath {
				// After gitinfotest.New, which runs the real git.
				t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			}

			got, err := open(t, r.Dir, tc.opts(wrapper)...).Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := gitinfo.Status{Dirty: true, Entries: []gitinfo.StatusEntry{
				{Code: " M", Path: "app/main.py"},
				{Code: "??", Path: "notes.txt"},
			}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Status (-want +got):\n%s", diff)
			}
			var ran []string
			if data, err := os.ReadFile(argv); err == nil {
				ran = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			} else if !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ran); diff != "" {
				t.Errorf("git runs (-want +got):\n%s", diff)
			}
		})
	}
}
