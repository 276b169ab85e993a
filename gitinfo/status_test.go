package gitinfo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
