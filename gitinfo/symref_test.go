package gitinfo_test

import (
	"context"
	"testing"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func TestSymbolicRef(t *testing.T) {
	isolateGitConfig(t)
	src := gitinfotest.New(t)
	src.Commit("a")
	clone := src.Clone()
	clone.Git("update-ref", "refs/heads/plain", "HEAD")
	repo := open(t, clone.Dir)
	tests := []struct {
		ref, want string
	}{
		{ref: "refs/remotes/origin/HEAD", want: "refs/remotes/origin/main"},
		{ref: "HEAD", want: "refs/heads/main"},
		{ref: "refs/heads/plain", want: ""},
		{ref: "refs/remotes/upstream/HEAD", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := repo.SymbolicRef(context.Background(), tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("SymbolicRef(%s) = %q, want %q", tt.ref, got, tt.want)
			}
		})
	}
}
