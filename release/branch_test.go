package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
)

// branchGit is a repository's refs for the branch rules. The other CutGit
// methods are nil: a branch rule that calls one panics the test.
type branchGit struct {
	CutGit
	refs map[string]string // full ref name → commit
	sym  map[string]string // symbolic ref → target
}

func (g *branchGit) Resolve(_ context.Context, rev string) (string, error) {
	if h, ok := g.refs[rev]; ok {
		return h, nil
	}
	return "", fmt.Errorf("resolving %s: %w", rev, gitinfo.ErrUnknownRevision)
}

func (g *branchGit) SymbolicRef(_ context.Context, name string) (string, error) {
	return g.sym[name], nil
}

// Log answers the push check "which commits of HEAD does the remote's
// branch lack" with one: every case where it is asked has HEAD off it.
func (g *branchGit) Log(context.Context, gitinfo.LogQuery) (*gitinfo.Log, error) {
	return &gitinfo.Log{Commits: []gitinfo.Commit{{}}}, nil
}

// The commits of TestBranchRules: HEAD, and another one.
var (
	branchHead  = strings.Repeat("a", 40)
	branchOther = strings.Repeat("b", 40)
)

// TestBranchRules runs DefaultBranch, CurrentBranch and the branch step
// (with --push) for the checkouts CI systems make.
func TestBranchRules(t *testing.T) {
	// A clone of origin with HEAD detached at main's tip and origin/HEAD set.
	cloned := map[string]string{"refs/remotes/origin/main": branchHead}
	originHead := map[string]string{"refs/remotes/origin/HEAD": "refs/remotes/origin/main"}
	// What actions/checkout fetches for a branch push: the branch, no origin/HEAD.
	mainOnly := map[string]string{"refs/remotes/origin/main": branchHead}
	mainElsewhere := map[string]string{"refs/remotes/origin/main": branchOther}
	tests := []struct {
		name     string
		branch   string // HEAD attached to it; "" detached
		refs     map[string]string
		sym      map[string]string
		flag     string // --branch
		env      map[string]string
		want     Branch // CurrentBranch's answer
		release  string // DefaultBranch's (or --branch) answer
		detail   string // the branch step's detail; "" when refused
		wantErr  string // in the refusal
		wantHint string
	}{
		{
			name: "a checked-out branch wins over CI variables", branch: "main", refs: cloned, sym: originHead,
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "feature", "GITHUB_SHA": branchHead},
			want: Branch{Name: "main", Source: "checked out"}, release: "main",
			detail: "on main (checked out), the release branch (the default branch of origin)",
		},
		{
			name: "GitHub push to main", refs: mainOnly,
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main", "GITHUB_SHA": branchHead},
			want: Branch{Name: "main", Source: "GITHUB_REF_NAME"}, release: "main",
			detail: "on main (GITHUB_REF_NAME), the release branch (origin/HEAD is not set; origin/main exists)",
		},
		{
			name: "GitHub pull_request: refused", refs: mainElsewhere,
			env: map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_REF_TYPE": "branch",
				"GITHUB_REF_NAME": "7/merge", "GITHUB_HEAD_REF": "feature", "GITHUB_BASE_REF": "main", "GITHUB_SHA": branchHead},
			want: Branch{Name: "feature", Source: "GITHUB_HEAD_REF, a pull request", Change: true}, release: "main",
			wantErr: "HEAD is a change from feature (GITHUB_HEAD_REF, a pull request), not the release branch main", wantHint: "release from main after the merge",
		},
		{
			name: "GitHub pull_request from a fork's main, at main's tip: refused", refs: mainOnly,
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "8/merge", "GITHUB_HEAD_REF": "main", "GITHUB_SHA": branchOther},
			want: Branch{Name: "main", Source: "GITHUB_HEAD_REF, a pull request", Change: true}, release: "main",
			wantErr: "HEAD is a change from main (GITHUB_HEAD_REF, a pull request)",
		},
		{
			name: "GitHub tag event at main's tip: the tip decides", refs: mainOnly,
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v1.0.0", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v1.0.0", "GITHUB_SHA": branchHead},
			want: Branch{Name: "main", Source: "detached HEAD at the tip of origin/main"}, release: "main",
			detail: "on main (detached HEAD at the tip of origin/main), the release branch (origin/HEAD is not set; origin/main exists)",
		},
		{
			name: "GitHub tag event, a tag named main, HEAD off main: refused", refs: mainElsewhere,
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/main", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "main", "GITHUB_SHA": branchHead},
			want: Branch{}, release: "main",
			wantErr: "HEAD is detached at aaaaaaaaaaaa and nothing says it is on the release branch main", wantHint: "git checkout main",
		},
		{
			name: "GitLab branch pipeline", refs: mainOnly,
			env: map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main",
				"CI_COMMIT_SHA": branchHead, "CI_DEFAULT_BRANCH": "main"},
			want: Branch{Name: "main", Source: "CI_COMMIT_BRANCH"}, release: "main",
			detail: "on main (CI_COMMIT_BRANCH), the release branch (CI_DEFAULT_BRANCH)",
		},
		{
			name: "GitLab: CI_DEFAULT_BRANCH over a stale origin/HEAD", refs: map[string]string{"refs/remotes/origin/trunk": branchHead, "refs/remotes/origin/master": branchOther},
			sym:  map[string]string{"refs/remotes/origin/HEAD": "refs/remotes/origin/master"},
			env:  map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "trunk", "CI_COMMIT_REF_NAME": "trunk", "CI_COMMIT_SHA": branchHead, "CI_DEFAULT_BRANCH": "trunk"},
			want: Branch{Name: "trunk", Source: "CI_COMMIT_BRANCH"}, release: "trunk",
			detail: "on trunk (CI_COMMIT_BRANCH), the release branch (CI_DEFAULT_BRANCH)",
		},
		{
			name: "GitLab merge request pipeline: refused", refs: mainElsewhere,
			env: map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4",
				"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_COMMIT_REF_NAME": "feature",
				"CI_COMMIT_SHA": branchHead, "CI_DEFAULT_BRANCH": "main"},
			want: Branch{Name: "feature", Source: "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, a merge request", Change: true}, release: "main",
			wantErr: "HEAD is a change from feature (CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, a merge request), not the release branch main",
		},
		{
			name: "GitLab merge request pipeline without the source branch variable, at main's tip: refused", refs: mainOnly,
			env:  map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_SHA": branchHead},
			want: Branch{Name: "main", Source: "a merge request pipeline", Change: true}, release: "main",
			wantErr: "HEAD is a change from main (a merge request pipeline)",
		},
		{
			name: "GitLab tag pipeline at main's tip: the tip decides", refs: mainOnly,
			env:  map[string]string{"GITLAB_CI": "true", "CI_COMMIT_TAG": "v1.0.0", "CI_COMMIT_REF_NAME": "v1.0.0", "CI_COMMIT_SHA": branchHead},
			want: Branch{Name: "main", Source: "detached HEAD at the tip of origin/main"}, release: "main",
			detail: "on main (detached HEAD at the tip of origin/main), the release branch (origin/HEAD is not set; origin/main exists)",
		},
		{
			name: "GitLab tag pipeline, a tag named main, HEAD off main: refused", refs: mainElsewhere,
			env:  map[string]string{"GITLAB_CI": "true", "CI_COMMIT_TAG": "main", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_SHA": branchHead},
			want: Branch{}, release: "main",
			wantErr: "HEAD is detached at aaaaaaaaaaaa and nothing says it is on the release branch main",
		},
		{
			name: "GitHub variable naming feature, HEAD at main's tip: refused", refs: cloned, sym: originHead,
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "feature", "GITHUB_SHA": branchHead},
			want: Branch{Name: "feature", Source: "GITHUB_REF_NAME"}, release: "main",
			wantErr: "HEAD is on feature (GITHUB_REF_NAME), not on the release branch main (the default branch of origin)", wantHint: "--pre LABEL",
		},
		{
			name: "GitLab variable naming feature, HEAD at main's tip: refused", refs: cloned, sym: originHead,
			env:  map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "feature", "CI_COMMIT_REF_NAME": "feature", "CI_COMMIT_SHA": branchHead},
			want: Branch{Name: "feature", Source: "CI_COMMIT_BRANCH"}, release: "main",
			wantErr: "HEAD is on feature (CI_COMMIT_BRANCH), not on the release branch main",
		},
		{
			name: "GitLab variables saying main, no origin/main: the forge's word", refs: map[string]string{},
			env:  map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_SHA": branchHead, "CI_DEFAULT_BRANCH": "main"},
			want: Branch{Name: "main", Source: "CI_COMMIT_BRANCH"}, release: "main",
			detail: "on main (CI_COMMIT_BRANCH), the release branch (CI_DEFAULT_BRANCH); no origin/main here to check HEAD against",
		},
		{
			name: "GitHub variables saying main, no origin/main, no --branch: refused", refs: map[string]string{},
			env:     map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main", "GITHUB_SHA": branchHead},
			want:    Branch{Name: "main", Source: "GITHUB_REF_NAME"},
			wantErr: "no release branch: origin/HEAD is not set and there is no main or master branch", wantHint: "pass --branch NAME",
		},
		{
			name: "GitHub variables saying main, no origin/main, --branch main", refs: map[string]string{}, flag: "main",
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main", "GITHUB_SHA": branchHead},
			want: Branch{Name: "main", Source: "GITHUB_REF_NAME"}, release: "main",
			detail: "on main (GITHUB_REF_NAME), the release branch (--branch); no origin/main here to check HEAD against",
		},
		{
			name: "variables saying main for another commit, no origin/main: refused", refs: map[string]string{},
			env:  map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_SHA": branchOther, "CI_DEFAULT_BRANCH": "main"},
			want: Branch{Ignored: "CI_COMMIT_BRANCH=main is for commit bbbbbbbbbbbb (CI_COMMIT_SHA), not HEAD"}, release: "main",
			wantErr: "HEAD is detached at aaaaaaaaaaaa and nothing says it is on the release branch main (CI_DEFAULT_BRANCH) (CI_COMMIT_BRANCH=main is for commit bbbbbbbbbbbb (CI_COMMIT_SHA), not HEAD)",
		},
		{
			name: "GitHub variables saying main for another commit, HEAD at main's tip: the tip decides", refs: mainOnly,
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main", "GITHUB_SHA": branchOther},
			want: Branch{Name: "main", Source: "detached HEAD at the tip of origin/main", Ignored: "GITHUB_REF_NAME=main is for commit bbbbbbbbbbbb (GITHUB_SHA), not HEAD"}, release: "main",
			detail: "on main (detached HEAD at the tip of origin/main), the release branch (origin/HEAD is not set; origin/main exists)",
		},
		{
			name: "variables saying main, HEAD behind origin/main: refused by the push check", refs: mainElsewhere,
			env:  map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": branchHead},
			want: Branch{Name: "main", Source: "CI_COMMIT_BRANCH"}, release: "main",
			wantErr: "HEAD has 1 commit that origin/main does not", wantHint: "git push origin main",
		},
		{
			name: "no CI, detached at main's tip", refs: cloned, sym: originHead,
			want: Branch{Name: "main", Source: "detached HEAD at the tip of origin/main"}, release: "main",
			detail: "on main (detached HEAD at the tip of origin/main), the release branch (the default branch of origin)",
		},
		{
			name: "GitHub variables without GITHUB_ACTIONS count for nothing", refs: mainElsewhere,
			env:  map[string]string{"GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main", "GITLAB_CI": "true"},
			want: Branch{}, release: "main",
			wantErr: "HEAD is detached at aaaaaaaaaaaa",
		},
		{
			name: "GitLab variables without GITLAB_CI count for nothing", refs: mainElsewhere,
			env:  map[string]string{"CI_COMMIT_BRANCH": "main", "GITHUB_ACTIONS": "true"},
			want: Branch{}, release: "main",
			wantErr: "HEAD is detached at aaaaaaaaaaaa",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			git := &branchGit{refs: tt.refs, sym: tt.sym}
			getenv := func(k string) string { return tt.env[k] }
			head := gitinfo.Head{Commit: branchHead, Branch: tt.branch}

			release := tt.flag
			if release == "" {
				var err error
				release, _, err = DefaultBranch(ctx, git, "origin", getenv)
				if err != nil && tt.release != "" {
					t.Fatalf("DefaultBranch() error = %v", err)
				}
			}
			if release != tt.release {
				t.Errorf("release branch = %q, want %q", release, tt.release)
			}
			got, err := CurrentBranch(ctx, git, head, "origin", release, getenv)
			if err != nil {
				t.Fatalf("CurrentBranch() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CurrentBranch() mismatch (-want +got):\n%s", diff)
			}

			c := &cutRun{deps: CutDeps{Git: git, Getenv: getenv}, opts: CutOptions{Branch: tt.flag, Push: true}, remote: "origin", head: head}
			detail, err := c.checkBranch(ctx)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("branch step error = %v, want %q", err, tt.detail)
				}
				if detail != tt.detail {
					t.Errorf("branch step = %q, want %q", detail, tt.detail)
				}
				return
			}
			if !errors.Is(err, ErrNotReleaseBranch) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("branch step = %q, %v; want a refusal with %q", detail, err, tt.wantErr)
			}
			if !strings.Contains(Hint(err), tt.wantHint) {
				t.Errorf("hint %q lacks %q", Hint(err), tt.wantHint)
			}
		})
	}
}
