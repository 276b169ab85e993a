// Package gitinfo reads and writes the few things `release` needs from a git
// repository: tags with their peeled commits, HEAD, the set-difference commit
// walk, worktree and shallow state, remotes, and tag creation and push.
//
// It is an adapter over go-git (and the git binary where go-git is slow or
// cannot authenticate). It returns plain values, never prints, and never
// decides policy: which tags are release tags and what a commit means for the
// version are decided by package release.
package gitinfo

import (
	"errors"
	"strings"
	"time"
)

// Errors callers branch on. They are wrapped with context; match them with
// errors.Is.
var (
	// ErrNotRepository means no git repository was found at or above the
	// directory.
	ErrNotRepository = errors.New("not a git repository")
	// ErrEmptyRepository means the repository has no commit yet.
	ErrEmptyRepository = errors.New("repository has no commits")
	// ErrUnknownRevision means a revision (hash, prefix, tag or branch) does
	// not name a commit of the repository.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrAmbiguousRevision means a short hash matches more than one object.
	ErrAmbiguousRevision = errors.New("ambiguous revision")
)

// Signature is who made a commit or tag, and when.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Commit is one commit, with its full message as written (line endings
// untouched).
type Commit struct {
	Hash      string
	Parents   []string
	Author    Signature
	Committer Signature
	Message   string
}

// Subject is the first line of the message, without a trailing CR.
func (c Commit) Subject() string {
	s, _, _ := strings.Cut(c.Message, "\n")
	return strings.TrimRight(s, "\r")
}

// IsMerge reports whether the commit has more than one parent.
func (c Commit) IsMerge() bool { return len(c.Parents) > 1 }

// Tag is a tag ref with the commit it finally points at.
type Tag struct {
	// Name is the ref name without "refs/tags/".
	Name string
	// Commit is the peeled commit hash (annotated tags are followed to
	// their commit).
	Commit string
	// Annotated is true when the ref points at a tag object.
	Annotated bool
}

// Head is what HEAD points at.
type Head struct {
	// Commit is the full hash of the HEAD commit.
	Commit string
	// Branch is the short branch name, empty when HEAD is detached.
	Branch string
}

// Detached reports whether HEAD points at a commit rather than a branch.
func (h Head) Detached() bool { return h.Branch == "" }
