package gitinfo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrTagConflict means a tag already exists and points at another commit
// than the one asked for. Errors matching it are *TagConflictError.
var ErrTagConflict = errors.New("tag exists on another commit")

// ErrNoTagger means CreateTag was given no tagger and git's user.name and
// user.email are not configured.
var ErrNoTagger = errors.New("no tagger identity")

// TagConflictError reports a tag that exists, locally or on a remote, on
// another commit. For `release cut` this is the lock another pipeline won.
type TagConflictError struct {
	// Tag is the tag name.
	Tag string
	// Remote is the remote's URL without credentials, empty for the local
	// repository.
	Remote string
	// Have is the commit the existing tag points at (its tag object when
	// the remote did not say which commit that peels to).
	Have string
	// Want is the commit the tag was meant for.
	Want string
}

// Error names the tag, where it is, and both commits (abbreviated); Remote
// is already free of credentials.
func (e *TagConflictError) Error() string {
	where := "locally"
	if e.Remote != "" {
		where = "on " + e.Remote
	}
	return fmt.Sprintf("tag %s exists %s on %s, not on %s", e.Tag, where, short(e.Have), short(e.Want))
}

// Is makes errors.Is(err, ErrTagConflict) true.
func (e *TagConflictError) Is(target error) bool { return target == ErrTagConflict }

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// TagOptions describes an annotated tag.
type TagOptions struct {
	// Message is the annotation (for release, the changelog). Git's
	// canonical form is applied: surrounding blank lines trimmed, one
	// final newline. Empty means the tag name.
	Message string
	// Tagger is who tags and when. Name and Email default to git's
	// user.name and user.email (repository, then global configuration);
	// When is required (the caller owns the clock).
	Tagger Signature
}

// CreateTag creates the annotated tag name on the commit rev names and
// returns it. It is idempotent: when the tag already exists on that commit
// (annotated or not) it is returned as is. When it exists on another commit
// the error is a *TagConflictError.
func (r *Repo) CreateTag(ctx context.Context, name, rev string, opts TagOptions) (Tag, error) {
	if err := ctx.Err(); err != nil {
		return Tag{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	want, err := r.resolve(rev)
	if err != nil {
		return Tag{}, fmt.Errorf("creating tag %s: resolving %q: %w", name, rev, err)
	}
	refName := plumbing.NewTagReferenceName(name)
	if err := refName.Validate(); err != nil {
		return Tag{}, fmt.Errorf("creating tag %s: %w", name, err)
	}
	if existing, ok, err := r.localTag(name); err != nil {
		return Tag{}, fmt.Errorf("creating tag %s: %w", name, err)
	} else if ok {
		return settleExisting(existing, want)
	}

	tagger := opts.Tagger
	if tagger.When.IsZero() {
		return Tag{}, fmt.Errorf("creating tag %s: tagger time not set", name)
	}
	if tagger.Name == "" || tagger.Email == "" {
		userName, userEmail, err := r.userIdentity()
		if err != nil {
			return Tag{}, fmt.Errorf("creating tag %s: %w", name, err)
		}
		if tagger.Name == "" {
			tagger.Name = userName
		}
		if tagger.Email == "" {
			tagger.Email = userEmail
		}
		if tagger.Name == "" || tagger.Email == "" {
			return Tag{}, fmt.Errorf("creating tag %s: %w: set user.name and user.email", name, ErrNoTagger)
		}
	}
	msg := opts.Message
	if strings.TrimSpace(msg) == "" {
		msg = name
	}
	_, err = r.repo.CreateTag(name, want, &git.CreateTagOptions{
		Tagger:  &object.Signature{Name: tagger.Name, Email: tagger.Email, When: tagger.When},
		Message: msg,
	})
	if errors.Is(err, git.ErrTagExists) {
		// Created meanwhile by someone else: same rules.
		if existing, ok, lerr := r.localTag(name); lerr == nil && ok {
			return settleExisting(existing, want)
		}
	}
	if err != nil {
		return Tag{}, fmt.Errorf("creating tag %s: %w", name, err)
	}
	return Tag{Name: name, Commit: want.String(), Annotated: true}, nil
}

// settleExisting is CreateTag's answer when the tag already exists: the tag
// itself when it is on want (a re-run), else a *TagConflictError.
func settleExisting(existing Tag, want plumbing.Hash) (Tag, error) {
	if existing.Commit == want.String() {
		return existing, nil
	}
	return Tag{}, &TagConflictError{Tag: existing.Name, Have: existing.Commit, Want: want.String()}
}

// localTag reads the tag name, peeled.
func (r *Repo) localTag(name string) (Tag, bool, error) {
	ref, err := r.storage.Reference(plumbing.NewTagReferenceName(name))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return Tag{}, false, nil
	}
	if err != nil {
		return Tag{}, false, err
	}
	if ref.Type() != plumbing.HashReference {
		return Tag{}, false, fmt.Errorf("tag %s is a symbolic reference", name)
	}
	c, annotated, err := r.peel(ref.Hash())
	if errors.Is(err, errNotCommit) {
		// Not on a commit: on no commit we could want either.
		return Tag{Name: name, Commit: ref.Hash().String()}, true, nil
	}
	if err != nil {
		return Tag{}, false, err
	}
	return Tag{Name: name, Commit: c.String(), Annotated: annotated}, true, nil
}
