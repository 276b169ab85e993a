package gitinfo_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func TestRemotes(t *testing.T) {
	isolateGitConfig(t)
	tests := []struct {
		name  string
		build func(t *testing.T) *gitinfotest.Repo
		want  gitinfo.Remotes
	}{
		{"no remote", func(t *testing.T) *gitinfotest.Repo {
			r := gitinfotest.New(t)
			r.Commit("a")
			return r
		}, gitinfo.Remotes{}},
		{"cloned with -o upstream", func(t *testing.T) *gitinfotest.Repo {
			src := gitinfotest.New(t)
			src.Commit("a")
			return src.Clone("--origin=upstream")
		}, gitinfo.Remotes{Names: []string{"upstream"}, Upstream: "upstream"}},
		{"a second remote the branch does not track", func(t *testing.T) *gitinfotest.Repo {
			src := gitinfotest.New(t)
			src.Commit("a")
			c := src.Clone()
			c.AddRemote("fork", "https://git.example.com/me/app")
			return c
		}, gitinfo.Remotes{Names: []string{"fork", "origin"}, Upstream: "origin"}},
		{"detached, as in CI", func(t *testing.T) *gitinfotest.Repo {
			src := gitinfotest.New(t)
			src.Commit("a")
			c := src.Clone()
			c.Detach()
			return c
		}, gitinfo.Remotes{Names: []string{"origin"}}},
		{"remotes, no tracking branch", func(t *testing.T) *gitinfotest.Repo {
			r := gitinfotest.New(t)
			r.Commit("a")
			r.AddRemote("b", "https://git.example.com/b/app")
			r.AddRemote("a", "https://git.example.com/a/app")
			return r
		}, gitinfo.Remotes{Names: []string{"a", "b"}}},
		{"a branch tracking a local branch", func(t *testing.T) *gitinfotest.Repo {
			r := gitinfotest.New(t)
			r.Commit("a")
			r.Git("config", "branch.main.remote", ".")
			return r
		}, gitinfo.Remotes{Upstream: "."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.build(t)
			got, err := open(t, r.Dir).Remotes(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Remotes (-want +got):\n%s", diff)
			}
		})
	}
}
