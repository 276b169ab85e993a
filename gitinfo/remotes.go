package gitinfo

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// Remotes are the remotes a clone is configured with.
type Remotes struct {
	// Names are the configured remotes, sorted.
	Names []string
	// Upstream is the remote the current branch tracks (its
	// branch.<name>.remote, "." for a branch tracking another local
	// branch), "" when HEAD is detached or the branch tracks nothing.
	Upstream string
}

// Remotes reads the configured remotes and the remote HEAD's branch
// tracks: what a caller needs to name the remote in a `git fetch` it
// suggests. The choice among them is the caller's.
func (r *Repo) Remotes(ctx context.Context) (Remotes, error) {
	if err := ctx.Err(); err != nil {
		return Remotes{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := r.storage.Config()
	if err != nil {
		return Remotes{}, fmt.Errorf("reading config: %w", err)
	}
	var out Remotes
	for name, rc := range cfg.Remotes {
		if len(rc.URLs) > 0 {
			out.Names = append(out.Names, name)
		}
	}
	slices.Sort(out.Names)
	// Only the name HEAD points at matters, not its commit: an unborn
	// branch tracks its remote too.
	head, err := r.storage.Reference(plumbing.HEAD)
	if err != nil {
		return Remotes{}, fmt.Errorf("reading HEAD: %w", err)
	}
	if head.Type() == plumbing.SymbolicReference && head.Target().IsBranch() {
		if b, ok := cfg.Branches[head.Target().Short()]; ok {
			out.Upstream = b.Remote
		}
	}
	return out, nil
}
