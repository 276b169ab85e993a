package gitinfo

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrUnknownRemote means the repository has no remote of that name.
var ErrUnknownRemote = errors.New("unknown remote")

// minPrefix is the shortest abbreviated hash Resolve accepts: shorter
// prefixes collide too easily to be worth guessing from.
const minPrefix = 7

// maxPeel bounds tag-of-tag chains so a malformed cycle cannot loop forever.
const maxPeel = 16

// Head returns the commit HEAD points at and, unless HEAD is detached, the
// branch. It returns ErrEmptyRepository when HEAD names a branch with no
// commit yet.
func (r *Repo) Head(ctx context.Context) (Head, error) {
	if err := ctx.Err(); err != nil {
		return Head{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.head()
}

func (r *Repo) head() (Head, error) {
	sym, err := r.storage.Reference(plumbing.HEAD)
	if err != nil {
		return Head{}, fmt.Errorf("reading HEAD: %w", err)
	}
	var h Head
	if sym.Type() == plumbing.SymbolicReference && sym.Target().IsBranch() {
		h.Branch = sym.Target().Short()
	}
	ref, err := storer.ResolveReference(r.storage, plumbing.HEAD)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return Head{}, fmt.Errorf("reading HEAD: %w", ErrEmptyRepository)
	}
	if err != nil {
		return Head{}, fmt.Errorf("reading HEAD: %w", err)
	}
	h.Commit = ref.Hash().String()
	return h, nil
}

// Tags returns every tag of the repository, sorted by name. Annotated tags
// are peeled to the commit they finally point at; tags whose target is not a
// commit (a tree, a blob) are skipped. A lightweight tag whose target object
// is missing (a shallow or partial clone) is kept as is: its hash is all
// there is to know.
func (r *Repo) Tags(ctx context.Context) ([]Tag, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	iter, err := r.storage.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("reading tags: %w", err)
	}
	defer iter.Close()
	peels := r.packedTagPeels()
	var tags []Tag
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		if !ref.Name().IsTag() || ref.Type() != plumbing.HashReference {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// Not ReferenceName.Short: it runs fmt.Sscanf per ref.
		name := strings.TrimPrefix(ref.Name().String(), "refs/tags/")
		commit, annotated, err := r.peelTag(name, ref.Hash(), peels)
		if errors.Is(err, errNotCommit) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		tags = append(tags, Tag{Name: name, Commit: commit.String(), Annotated: annotated})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading tags: %w", err)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	return tags, nil
}

// peelTag peels a tag ref, from packed-refs' record when the ref is the
// packed one (a loose ref of the same name may have replaced it), else by
// reading objects. Either way the final object's type is checked, which
// reads only its header.
func (r *Repo) peelTag(name string, h plumbing.Hash, peels map[string]packedTag) (plumbing.Hash, bool, error) {
	p, ok := peels[name]
	if !ok || p.object != h {
		return r.peel(h)
	}
	target, annotated := h, false
	if !p.peeled.IsZero() {
		target, annotated = p.peeled, true
	}
	typ, err := r.storage.objectType(target)
	switch {
	case errors.Is(err, plumbing.ErrObjectNotFound) && !annotated:
		return target, false, nil // as peel: see Tags
	case err != nil:
		return plumbing.ZeroHash, false, fmt.Errorf("reading object %s: %w", target, err)
	case typ != plumbing.CommitObject:
		return plumbing.ZeroHash, false, errNotCommit
	}
	return target, annotated, nil
}

// errNotCommit marks a tag or revision whose object is not a commit.
var errNotCommit = errors.New("not a commit")

// peel follows h through tag objects to a commit. annotated reports whether
// h itself is a tag object. A missing object at the first step is taken to
// be a commit (see Tags).
func (r *Repo) peel(h plumbing.Hash) (commit plumbing.Hash, annotated bool, err error) {
	typ, err := r.storage.objectType(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return h, false, nil
	}
	for i := 0; ; i++ {
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("reading object %s: %w", h, err)
		}
		switch typ {
		case plumbing.CommitObject:
			return h, annotated, nil
		case plumbing.TagObject:
			if i == maxPeel {
				return plumbing.ZeroHash, false, fmt.Errorf("tag chain at %s longer than %d", h, maxPeel)
			}
			tag, err := object.GetTag(r.storage, h)
			if err != nil {
				return plumbing.ZeroHash, false, fmt.Errorf("reading tag object %s: %w", h, err)
			}
			// The tag says what it points at: no need to read a
			// commit to know it is one.
			annotated = true
			h, typ = tag.Target, tag.TargetType
		default:
			return plumbing.ZeroHash, false, errNotCommit
		}
	}
}

// Resolve turns a revision into a full commit hash. It accepts "HEAD", a
// full hash, a tag or branch name (short or as a full ref name, tags first
// like git), a remote-tracking branch, and an abbreviated hash of at least 7
// hex digits. Tags are peeled to their commit. It returns ErrUnknownRevision
// when nothing matches and ErrAmbiguousRevision when an abbreviated hash
// matches several commits.
func (r *Repo) Resolve(ctx context.Context, rev string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.resolve(rev)
	if err != nil {
		return "", fmt.Errorf("resolving %q: %w", rev, err)
	}
	return h.String(), nil
}

func (r *Repo) resolve(rev string) (plumbing.Hash, error) {
	// Ancestry suffixes (rev~2, rev^, rev^2, rev^{}): '~' and '^' cannot
	// appear in a ref name, so the first one starts the suffix.
	if i := strings.IndexAny(rev, "~^"); i > 0 {
		h, err := r.resolveName(rev[:i])
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return r.walkSuffix(h, rev[i:])
	}
	return r.resolveName(rev)
}

// walkSuffix follows git's ancestry suffixes: ~N is N first parents, ^N the
// N-th parent (^ alone the first, ^0 the commit itself), ^{} and ^{commit}
// peel to the commit (already done).
func (r *Repo) walkSuffix(h plumbing.Hash, suffix string) (plumbing.Hash, error) {
	for suffix != "" {
		op := suffix[0]
		suffix = suffix[1:]
		if op != '~' && op != '^' {
			return plumbing.ZeroHash, ErrUnknownRevision
		}
		if op == '^' && strings.HasPrefix(suffix, "{") {
			end := strings.IndexByte(suffix, '}')
			if end < 0 || (suffix[1:end] != "" && suffix[1:end] != "commit") {
				return plumbing.ZeroHash, ErrUnknownRevision
			}
			suffix = suffix[end+1:]
			continue
		}
		digits := len(suffix) - len(strings.TrimLeft(suffix, "0123456789"))
		n := 1
		if digits > 0 {
			v, err := strconv.Atoi(suffix[:digits])
			if err != nil || v > 1<<20 {
				return plumbing.ZeroHash, ErrUnknownRevision
			}
			n = v
			suffix = suffix[digits:]
		}
		if op == '~' {
			for ; n > 0; n-- {
				p, err := r.parent(h, 1)
				if err != nil {
					return plumbing.ZeroHash, err
				}
				h = p
			}
			continue
		}
		if n == 0 {
			continue
		}
		p, err := r.parent(h, n)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		h = p
	}
	return h, nil
}

// parent returns the n-th parent (from 1) of commit h.
func (r *Repo) parent(h plumbing.Hash, n int) (plumbing.Hash, error) {
	c, err := object.GetCommit(r.storage, h)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("reading commit %s: %w", h, err)
	}
	if n > len(c.ParentHashes) {
		return plumbing.ZeroHash, fmt.Errorf("commit %s has no parent %d: %w", h.String()[:12], n, ErrUnknownRevision)
	}
	return c.ParentHashes[n-1], nil
}

func (r *Repo) resolveName(rev string) (plumbing.Hash, error) {
	if rev == "" {
		return plumbing.ZeroHash, ErrUnknownRevision
	}
	if rev == "HEAD" {
		h, err := r.head()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return plumbing.NewHash(h.Commit), nil
	}
	if isHex(rev) && len(rev) == 40 {
		return r.peelCommit(plumbing.NewHash(strings.ToLower(rev)))
	}
	// git's ref lookup order (refs.c ref_rev_parse_rules). The name as
	// given only counts when it is a full ref or a pseudo-ref like
	// FETCH_HEAD, so "config" never reads .git/config as a ref.
	names := []string{"refs/" + rev, "refs/tags/" + rev, "refs/heads/" + rev, "refs/remotes/" + rev, "refs/remotes/" + rev + "/HEAD"}
	if strings.HasPrefix(rev, "refs/") || isPseudoRef(rev) {
		names = append([]string{rev}, names...)
	}
	for _, name := range names {
		ref, err := storer.ResolveReference(r.storage, plumbing.ReferenceName(name))
		if err == nil {
			return r.peelCommit(ref.Hash())
		}
		if !errors.Is(err, plumbing.ErrReferenceNotFound) {
			return plumbing.ZeroHash, err
		}
	}
	if isHex(rev) && len(rev) >= minPrefix && len(rev) < 40 {
		return r.resolvePrefix(strings.ToLower(rev))
	}
	return plumbing.ZeroHash, ErrUnknownRevision
}

// peelCommit peels h to a commit, mapping a missing object to
// ErrUnknownRevision and a non-commit to an error that says so.
func (r *Repo) peelCommit(h plumbing.Hash) (plumbing.Hash, error) {
	if _, err := r.storage.objectType(h); errors.Is(err, plumbing.ErrObjectNotFound) {
		return plumbing.ZeroHash, ErrUnknownRevision
	} else if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("reading object %s: %w", h, err)
	}
	c, _, err := r.peel(h)
	if errors.Is(err, errNotCommit) {
		return plumbing.ZeroHash, fmt.Errorf("object %s is not a commit: %w", h, ErrUnknownRevision)
	}
	return c, err
}

// resolvePrefix finds the commits (or tags peeling to commits: git's
// "commit-ish" disambiguation) whose hash starts with prefix.
func (r *Repo) resolvePrefix(prefix string) (plumbing.Hash, error) {
	raw, err := hex.DecodeString(prefix[:len(prefix)&^1])
	if err != nil {
		return plumbing.ZeroHash, ErrUnknownRevision
	}
	hashes, err := r.storage.HashesWithPrefix(raw)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("looking up %s: %w", prefix, err)
	}
	found := map[plumbing.Hash]bool{}
	for _, h := range hashes {
		if !strings.HasPrefix(h.String(), prefix) {
			continue
		}
		c, _, err := r.peel(h)
		if errors.Is(err, errNotCommit) {
			continue
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		found[c] = true
	}
	switch len(found) {
	case 0:
		return plumbing.ZeroHash, ErrUnknownRevision
	case 1:
		for c := range found {
			return c, nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("%d commits match: %w", len(found), ErrAmbiguousRevision)
}

// isPseudoRef reports whether name looks like FETCH_HEAD or ORIG_HEAD.
func isPseudoRef(name string) bool {
	for _, c := range name {
		if !('A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return name != ""
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// Commit returns the commit a revision (see Resolve) names, with its full
// message.
func (r *Repo) Commit(ctx context.Context, rev string) (Commit, error) {
	if err := ctx.Err(); err != nil {
		return Commit{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.resolve(rev)
	if err != nil {
		return Commit{}, fmt.Errorf("resolving %q: %w", rev, err)
	}
	c, err := object.GetCommit(r.storage, h)
	if err != nil {
		return Commit{}, fmt.Errorf("reading commit %s: %w", h, err)
	}
	return toCommit(c), nil
}

func toCommit(c *object.Commit) Commit {
	parents := make([]string, len(c.ParentHashes))
	for i, p := range c.ParentHashes {
		parents[i] = p.String()
	}
	return Commit{
		Hash:      c.Hash.String(),
		Parents:   parents,
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
	}
}

// RemoteURL returns the first URL of the named remote exactly as configured
// (it may carry credentials: callers must strip userinfo before showing it).
// It returns ErrUnknownRemote when there is no such remote.
func (r *Repo) RemoteURL(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.remoteURL(name)
}

// remoteURL is RemoteURL for callers holding r.mu.
func (r *Repo) remoteURL(name string) (string, error) {
	cfg, err := r.storage.Config()
	if err != nil {
		return "", fmt.Errorf("reading config: %w", err)
	}
	rc, ok := cfg.Remotes[name]
	if !ok || len(rc.URLs) == 0 {
		return "", fmt.Errorf("remote %q: %w", name, ErrUnknownRemote)
	}
	return rc.URLs[0], nil
}

// Shallow reports whether the repository is a shallow clone (it has a
// .git/shallow file listing commits whose parents were not fetched).
func (r *Repo) Shallow(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := r.storage.Shallow()
	if err != nil {
		return false, fmt.Errorf("reading shallow file: %w", err)
	}
	return len(s) > 0, nil
}
