package gitinfo

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/config"
)

// UserIdentity returns git's user.name and user.email as configured for the
// repository (its own configuration, then the user's global one), either
// empty when unset. It is what CreateTag falls back to; callers that choose
// the tagger themselves (release cut: flag, environment, configuration, CI)
// ask it so they can say which source won.
func (r *Repo) UserIdentity(ctx context.Context) (name, email string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.userIdentity()
}

// userIdentity is UserIdentity for callers holding r.mu.
func (r *Repo) userIdentity() (name, email string, err error) {
	cfg, err := r.repo.ConfigScoped(config.GlobalScope)
	if err != nil {
		return "", "", fmt.Errorf("reading git config: %w", err)
	}
	return cfg.User.Name, cfg.User.Email, nil
}
