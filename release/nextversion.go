package release

import (
	"cmp"
	"context"
	"fmt"

	"github.com/releasetool/release/gitinfo"
)

// Git is what the version policy reads from a repository. *gitinfo.Repo
// satisfies it; tests may use anything else that does.
type Git interface {
	Head(ctx context.Context) (gitinfo.Head, error)
	Tags(ctx context.Context) ([]gitinfo.Tag, error)
	Resolve(ctx context.Context, rev string) (string, error)
	Log(ctx context.Context, q gitinfo.LogQuery) (*gitinfo.Log, error)
	Status(ctx context.Context) (gitinfo.Status, error)
	Shallow(ctx context.Context) (bool, error)
}

// NextVersion derives the version of HEAD (SPEC §2): it reads HEAD, the
// tags, the worktree status and whether the clone is shallow, walks the
// release's commits in one pass (HEAD --not <stable release tags>, stopping
// at the release tags of HEAD's own line), and hands all of it to Derive.
//
// When stable release tags higher than the base were not met by the walk,
// one more walk from them tells the tags on other lines (reported in
// Result.Warnings) from a higher tag sitting behind a lower one in history
// (then the base, as the highest reachable). In a shallow clone that check
// is skipped: those tags count as not reachable.
func NextVersion(ctx context.Context, git Git, opts Options) (*Result, error) {
	in, err := readInput(ctx, git, opts)
	if err != nil {
		return nil, err
	}
	return Derive(in, opts)
}

// readInput reads what Derive looks at. Cut keeps it: the release's notes
// are built from the commits of this walk rather than from a second one.
func readInput(ctx context.Context, git Git, opts Options) (Input, error) {
	head, err := git.Head(ctx)
	if err != nil {
		return Input{}, err // gitinfo says "reading HEAD"
	}
	// The worktree status runs the git binary: let it run while the tags
	// are read and the history walked. Every return waits for it, so no
	// git process outlives the call.
	var status gitinfo.Status
	var statusErr error
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		status, statusErr = git.Status(ctx)
	}()
	defer func() { <-statusDone }()
	tags, err := git.Tags(ctx)
	if err != nil {
		return Input{}, fmt.Errorf("reading tags: %w", err)
	}
	shallow, err := git.Shallow(ctx)
	if err != nil {
		return Input{}, fmt.Errorf("reading shallow state: %w", err)
	}
	rel, _ := classifyTags(tags, opts.TagPrefix)

	log, err := git.Log(ctx, gitinfo.LogQuery{
		Include: []string{head.Commit},
		StopAt:  stableTagCommits(rel, head.Commit),
		Paths:   opts.Paths,
	})
	if err != nil {
		return Input{}, fmt.Errorf("walking the commits since the last release: %w", err)
	}
	<-statusDone
	if statusErr != nil {
		return Input{}, fmt.Errorf("reading worktree status: %w", statusErr)
	}
	in := Input{
		Head:      head.Commit,
		Tags:      tags,
		Commits:   log.Commits,
		Reached:   log.Reached,
		Truncated: log.Shallow,
		Shallow:   shallow,
		Dirty:     status.Dirty,
	}
	if !shallow && !log.Shallow {
		in.Behind, err = behindTags(ctx, git, rel, head.Commit, log.Reached)
		if err != nil {
			return Input{}, err
		}
	}
	return in, nil
}

// stableTagCommits are the commits of the stable release tags, except
// HEAD's: the walk describes HEAD's own release even when HEAD is tagged.
func stableTagCommits(rel []ReleaseTag, head string) []string {
	seen := map[string]bool{head: true}
	var out []string
	for _, t := range rel {
		if t.Version.Prerelease() == "" && !seen[t.Commit] {
			seen[t.Commit] = true
			out = append(out, t.Commit)
		}
	}
	return out
}

// behindTags finds, among the stable release tags higher than the highest
// the walk reached, those reachable from HEAD anyway: one walk from their
// commits excluding HEAD lists exactly the commits HEAD does not contain.
func behindTags(ctx context.Context, git Git, rel []ReleaseTag, head string, reached []string) ([]string, error) {
	met := setOf(reached)
	base := highestStable(rel, met, head)
	if base == nil {
		// The walk met no release tag, so it went through all of HEAD's
		// history: no release tag can hide behind one.
		return nil, nil
	}
	var candidates []string
	seen := map[string]bool{}
	for _, t := range rel {
		if !t.Version.GreaterThan(base.Version) {
			break // rel is sorted highest first
		}
		if t.Version.Prerelease() == "" && t.Commit != head && !met[t.Commit] && !seen[t.Commit] {
			seen[t.Commit] = true
			candidates = append(candidates, t.Commit)
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	log, err := git.Log(ctx, gitinfo.LogQuery{Include: candidates, Exclude: []string{head}})
	if err != nil {
		return nil, fmt.Errorf("checking whether higher release tags are reachable: %w", err)
	}
	notContained := map[string]bool{}
	for _, c := range log.Commits {
		notContained[c.Hash] = true
	}
	var behind []string
	for _, c := range candidates {
		if !notContained[c] {
			behind = append(behind, c)
		}
	}
	return behind, nil
}

// ChangelogRange is the notes of a range of commits and where it starts
// and ends.
type ChangelogRange struct {
	// From is the tag or revision the notes start after; empty when the
	// range starts at the first commit (no earlier release).
	From string
	// To is the revision the notes end at, and ToCommit its hash.
	To       string
	ToCommit string
	// Commits is the number of commits in the range.
	Commits int
	Notes   Notes
}

// Changelog returns the notes of `release changelog --from FROM --to TO`:
// the commits reachable from TO (default HEAD) and not from FROM. Without
// FROM, the range starts at the previous release of TO: the highest stable
// release tag (with opts.TagPrefix) reachable from TO other than TO's own,
// exactly as NextVersion delimits a release. opts.Paths and opts.Rules
// apply as for the version. A history cut by a shallow clone is ErrHistory
// with a hint.
func Changelog(ctx context.Context, git Git, from, to string, opts Options) (*ChangelogRange, error) {
	to = cmp.Or(to, "HEAD")
	toCommit, err := git.Resolve(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("resolving --to %s: %w", to, err)
	}
	res := &ChangelogRange{From: from, To: to, ToCommit: toCommit}
	q := gitinfo.LogQuery{Include: []string{toCommit}, Paths: opts.Paths}
	var rel []ReleaseTag
	if from != "" {
		fromCommit, err := git.Resolve(ctx, from)
		if err != nil {
			return nil, fmt.Errorf("resolving --from %s: %w", from, err)
		}
		q.Exclude = []string{fromCommit}
	} else {
		tags, err := git.Tags(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading tags: %w", err)
		}
		rel, _ = classifyTags(tags, opts.TagPrefix)
		q.StopAt = stableTagCommits(rel, toCommit)
	}
	log, err := git.Log(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("walking the commits of the changelog: %w", err)
	}
	if log.Shallow {
		return nil, WithHint(fmt.Errorf("shallow clone: the history of %s ends before the start of the changelog: %w", to, ErrHistory), unshallowHint)
	}
	if from == "" {
		if base := highestStable(rel, setOf(log.Reached), toCommit); base != nil {
			res.From = base.Name
		}
	}
	res.Commits = len(log.Commits)
	res.Notes = BuildNotes(log.Commits, opts.Rules)
	return res, nil
}
