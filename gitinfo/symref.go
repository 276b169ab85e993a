package gitinfo

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// SymbolicRef returns the ref a symbolic ref points at, as a full name:
// SymbolicRef(ctx, "refs/remotes/origin/HEAD") is "refs/remotes/origin/main"
// in a clone whose remote's default branch is main. It returns "" when the
// ref does not exist or is not symbolic (no error: absence is an answer).
func (r *Repo) SymbolicRef(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := r.storage.Reference(plumbing.ReferenceName(name))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	if ref.Type() != plumbing.SymbolicReference {
		return "", nil
	}
	return ref.Target().String(), nil
}
