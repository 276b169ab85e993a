package release

import (
	"context"
	"fmt"
	"strings"

	"github.com/releasetool/release/gitinfo"
)

// ParseTagger parses a --tagger value, "Name <email>", as git writes an
// identity. The error wraps ErrInvalid.
func ParseTagger(s string) (gitinfo.Signature, error) {
	bad := func(why string) (gitinfo.Signature, error) {
		return gitinfo.Signature{}, WithHint(fmt.Errorf("tagger %q: %s: %w", s, why, ErrInvalid), `pass --tagger "Name <email>"`)
	}
	name, rest, ok := strings.Cut(strings.TrimSpace(s), "<")
	email, tail, closed := strings.Cut(rest, ">")
	name, email = strings.TrimSpace(name), strings.TrimSpace(email)
	switch {
	case !ok || !closed || strings.TrimSpace(tail) != "":
		return bad("want Name <email>")
	case name == "":
		return bad("the name is empty")
	case email == "":
		return bad("the email is empty")
	case strings.ContainsAny(name+email, "<>\n\r\x00"):
		return bad("angle brackets and line breaks are not allowed in a name or email")
	}
	return gitinfo.Signature{Name: name, Email: email}, nil
}

// resolveTagger chooses who tags, and says from where: --tagger, then
// GIT_COMMITTER_NAME/EMAIL (what git itself would use), then git's
// user.name/email, then the CI's user: GitHub's GITHUB_ACTOR with
// GITHUB_ACTOR_ID (the noreply address GitHub links to the account),
// GitLab's GITLAB_USER_NAME/GITLAB_USER_EMAIL. A source counts only with
// both a name and an email.
func (c *cutRun) resolveTagger(ctx context.Context) (gitinfo.Signature, string, error) {
	if c.tagger != nil {
		return *c.tagger, "--tagger", nil
	}
	if n, e := c.getenv("GIT_COMMITTER_NAME"), c.getenv("GIT_COMMITTER_EMAIL"); n != "" && e != "" {
		return gitinfo.Signature{Name: n, Email: e}, "GIT_COMMITTER_NAME/EMAIL", nil
	}
	n, e, err := c.deps.Git.UserIdentity(ctx)
	if err != nil {
		return gitinfo.Signature{}, "", err
	}
	if n != "" && e != "" {
		return gitinfo.Signature{Name: n, Email: e}, "git config", nil
	}
	if actor, id := c.getenv("GITHUB_ACTOR"), c.getenv("GITHUB_ACTOR_ID"); actor != "" && id != "" {
		return gitinfo.Signature{Name: actor, Email: id + "+" + actor + "@users.noreply.github.com"}, "GITHUB_ACTOR", nil
	}
	if n, e := c.getenv("GITLAB_USER_NAME"), c.getenv("GITLAB_USER_EMAIL"); n != "" && e != "" {
		return gitinfo.Signature{Name: n, Email: e}, "GITLAB_USER_NAME/EMAIL", nil
	}
	return gitinfo.Signature{}, "", WithHint(fmt.Errorf("no tagger for %s: no --tagger, no git user.name and user.email, no CI user: %w", c.version.Tag, gitinfo.ErrNoTagger),
		`pass --tagger "Name <email>" (or RELEASE_TAGGER), or set git config user.name and user.email`)
}
