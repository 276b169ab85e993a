package release

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/releasetool/release/gitinfo"
)

// BranchGit is what the branch rules read from the repository.
type BranchGit interface {
	Resolve(ctx context.Context, rev string) (string, error)
	SymbolicRef(ctx context.Context, name string) (string, error)
}

// DefaultBranch is the release branch when --branch is not given, in order:
//
//  1. GitLab CI (GITLAB_CI=true): CI_DEFAULT_BRANCH, the project's default
//     branch as the forge knows it now (a runner's reused clone may carry
//     an origin/HEAD from before the default branch changed);
//  2. the branch refs/remotes/<remote>/HEAD points at (set by git clone,
//     or by `git remote set-head <remote> --auto`);
//  3. main, else master, as a remote-tracking or a local branch.
//
// The second result says where the answer came from.
func DefaultBranch(ctx context.Context, git BranchGit, remote string, getenv func(string) string) (string, string, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if getenv("GITLAB_CI") == "true" {
		if b := getenv("CI_DEFAULT_BRANCH"); b != "" {
			return b, "CI_DEFAULT_BRANCH", nil
		}
	}
	prefix := "refs/remotes/" + remote + "/"
	target, err := git.SymbolicRef(ctx, prefix+"HEAD")
	if err != nil {
		return "", "", err
	}
	if b, ok := strings.CutPrefix(target, prefix); ok && b != "" {
		return b, "the default branch of " + remote, nil
	}
	for _, b := range []string{"main", "master"} {
		for _, ref := range []string{prefix + b, "refs/heads/" + b} {
			_, err := git.Resolve(ctx, ref)
			if err == nil {
				return b, fmt.Sprintf("%s/HEAD is not set; %s exists", remote, strings.TrimPrefix(ref, "refs/remotes/")), nil
			}
			if !errors.Is(err, gitinfo.ErrUnknownRevision) {
				return "", "", fmt.Errorf("looking for the release branch: %w", err)
			}
		}
	}
	return "", "", WithHint(fmt.Errorf("no release branch: %s/HEAD is not set and there is no main or master branch: %w", remote, ErrNotReleaseBranch),
		fmt.Sprintf("pass --branch NAME, or set the remote's default branch with git remote set-head %s --auto", remote))
}

// Branch is the branch HEAD is on, and how that is known.
type Branch struct {
	// Name is the short branch name; "" when nothing says.
	Name string
	// Source is how the name is known: "checked out", a CI variable, or
	// the tip of a branch a detached HEAD sits on.
	Source string
	// Change is true for a pull or merge request's source branch: its
	// commit (often a synthetic merge) is never the release branch's.
	Change bool
	// Ignored says which CI variable named a branch but was not believed
	// (it describes another commit than HEAD); "" when none was.
	Ignored string
}

// CurrentBranch says which branch HEAD is on. In order:
//
//  1. HEAD attached to a branch: that branch, whatever CI says.
//  2. GitHub Actions (GITHUB_ACTIONS=true): GITHUB_HEAD_REF in pull
//     request events (a change, never the release branch), else
//     GITHUB_REF_NAME when GITHUB_REF_TYPE is branch (tag events have none).
//  3. GitLab CI (GITLAB_CI=true): in merge request pipelines
//     (CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, CI_MERGE_REQUEST_IID or
//     CI_PIPELINE_SOURCE=merge_request_event) the source branch, a change;
//     in tag pipelines (CI_COMMIT_TAG) nothing; else CI_COMMIT_BRANCH, else
//     CI_COMMIT_REF_NAME.
//  4. A detached HEAD that is the tip of refs/remotes/<remote>/<want> or
//     refs/heads/<want>: want (what other CI checkouts look like).
//
// A branch variable of rules 2 and 3 describes the commit the pipeline was
// started for (GITHUB_SHA, CI_COMMIT_SHA): when that is set and is not
// HEAD (the job checked out or made another commit), the variable says
// nothing about HEAD and rule 4 decides. Pull and merge requests stay
// changes whatever HEAD is. Otherwise the branch is unknown (Name "").
func CurrentBranch(ctx context.Context, git BranchGit, head gitinfo.Head, remote, want string, getenv func(string) string) (Branch, error) {
	if head.Branch != "" {
		return Branch{Name: head.Branch, Source: "checked out"}, nil
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var ignored string
	// ciBranch believes a branch variable only for the pipeline's commit.
	ciBranch := func(variable, shaVariable string) (Branch, bool) {
		name := getenv(variable)
		if name == "" {
			return Branch{}, false
		}
		if sha := getenv(shaVariable); sha != "" && !strings.EqualFold(sha, head.Commit) {
			if ignored == "" {
				ignored = fmt.Sprintf("%s=%s is for commit %s (%s), not HEAD", variable, name, short12(sha), shaVariable)
			}
			return Branch{}, false
		}
		return Branch{Name: name, Source: variable}, true
	}
	if getenv("GITHUB_ACTIONS") == "true" {
		if ref := getenv("GITHUB_HEAD_REF"); ref != "" {
			return Branch{Name: ref, Source: "GITHUB_HEAD_REF, a pull request", Change: true}, nil
		}
		if getenv("GITHUB_REF_TYPE") == "branch" {
			if b, ok := ciBranch("GITHUB_REF_NAME", "GITHUB_SHA"); ok {
				return b, nil
			}
		}
	}
	if getenv("GITLAB_CI") == "true" {
		if ref := getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"); ref != "" {
			return Branch{Name: ref, Source: "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, a merge request", Change: true}, nil
		}
		if getenv("CI_MERGE_REQUEST_IID") != "" || getenv("CI_PIPELINE_SOURCE") == "merge_request_event" {
			return Branch{Name: getenv("CI_COMMIT_REF_NAME"), Source: "a merge request pipeline", Change: true}, nil
		}
		if getenv("CI_COMMIT_TAG") == "" {
			for _, variable := range []string{"CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME"} {
				if b, ok := ciBranch(variable, "CI_COMMIT_SHA"); ok {
					return b, nil
				}
			}
		}
	}
	if want != "" {
		for _, ref := range []string{"refs/remotes/" + remote + "/" + want, "refs/heads/" + want} {
			tip, err := git.Resolve(ctx, ref)
			if errors.Is(err, gitinfo.ErrUnknownRevision) {
				continue
			}
			if err != nil {
				return Branch{}, fmt.Errorf("reading %s: %w", ref, err)
			}
			if tip == head.Commit {
				return Branch{Name: want, Source: "detached HEAD at the tip of " + strings.TrimPrefix(strings.TrimPrefix(ref, "refs/remotes/"), "refs/heads/"), Ignored: ignored}, nil
			}
		}
	}
	return Branch{Ignored: ignored}, nil
}

// checkBranch: HEAD must be on the release branch, unless the release is
// a prerelease; with a push, the remote's copy of HEAD's branch (as this
// clone last saw it) must contain HEAD, so the tag never names a commit
// the branch on the remote does not have.
func (c *cutRun) checkBranch(ctx context.Context) (string, error) {
	pre := c.opts.Version.Pre != ""
	want, why := c.opts.Branch, "--branch"
	if want == "" {
		var err error
		want, why, err = DefaultBranch(ctx, c.deps.Git, c.remote, c.deps.Getenv)
		if err != nil && !pre {
			return "", err
		}
	}
	cur, err := CurrentBranch(ctx, c.deps.Git, c.head, c.remote, want, c.deps.Getenv)
	if err != nil {
		return "", err
	}
	var detail string
	switch {
	case cur.Name == want && !cur.Change:
		detail = fmt.Sprintf("on %s (%s), the release branch (%s)", want, cur.Source, why)
	case pre && cur.Name != "":
		detail = fmt.Sprintf("prerelease from %s (%s)", cur.Name, cur.Source)
	case pre:
		detail = "prerelease from a detached HEAD"
	case cur.Name == "":
		var ignored string
		if cur.Ignored != "" {
			ignored = " (" + cur.Ignored + ")"
		}
		return "", WithHint(fmt.Errorf("HEAD is detached at %s and nothing says it is on the release branch %s (%s)%s: %w", short12(c.head.Commit), want, why, ignored, ErrNotReleaseBranch),
			fmt.Sprintf("check out %s (git checkout %s), or pass --pre LABEL for a prerelease", want, want))
	case cur.Change:
		return "", WithHint(fmt.Errorf("HEAD is a change from %s (%s), not the release branch %s: %w", cur.Name, cur.Source, want, ErrNotReleaseBranch),
			fmt.Sprintf("release from %s after the merge, or pass --pre LABEL for a prerelease", want))
	default:
		return "", WithHint(fmt.Errorf("HEAD is on %s (%s), not on the release branch %s (%s): %w", cur.Name, cur.Source, want, why, ErrNotReleaseBranch),
			fmt.Sprintf("release from %s, pass --branch %s if %s is the release branch, or --pre LABEL for a prerelease", want, cur.Name, cur.Name))
	}
	if !c.opts.Push || cur.Name == "" || cur.Change {
		return detail, nil
	}
	tracking := "refs/remotes/" + c.remote + "/" + cur.Name
	tip, err := c.deps.Git.Resolve(ctx, tracking)
	if errors.Is(err, gitinfo.ErrUnknownRevision) {
		return detail + fmt.Sprintf("; no %s/%s here to check HEAD against", c.remote, cur.Name), nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", tracking, err)
	}
	if tip == c.head.Commit {
		return detail, nil
	}
	log, err := c.deps.Git.Log(ctx, gitinfo.LogQuery{Include: []string{c.head.Commit}, Exclude: []string{tip}})
	if err != nil {
		return "", fmt.Errorf("checking that %s/%s contains HEAD: %w", c.remote, cur.Name, err)
	}
	if n := len(log.Commits); n > 0 && !log.Shallow {
		commits := "commits"
		if n == 1 {
			commits = "commit"
		}
		return "", WithHint(fmt.Errorf("HEAD has %d %s that %s/%s does not: the tag would name a commit the remote's %s does not have: %w", n, commits, c.remote, cur.Name, cur.Name, ErrNotReleaseBranch),
			fmt.Sprintf("push %s first (git push %s %s), or fetch it if it is already there", cur.Name, c.remote, cur.Name))
	}
	if log.Shallow {
		c.warnf("shallow clone: cannot tell whether %s/%s contains HEAD", c.remote, cur.Name)
	}
	return detail, nil
}
