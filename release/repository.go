package release

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	// repoComponentRE is one path component of a repository name
	// (distribution's reference grammar): lower case only.
	repoComponentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$`)
	// repoHostRE is a registry host with an optional port.
	repoHostRE = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$|^\[[0-9a-fA-F:.]+\](?::[0-9]{1,5})?$`)
)

// maxRepositoryLen is the reference grammar's limit on a repository name.
const maxRepositoryLen = 255

// ValidRepository checks an --image value: a repository name
// ([host[:port]/]path) without tag or digest, its path in lower case. The
// error wraps ErrInvalid and says what is wrong, so a typo is caught before
// anything is built.
func ValidRepository(repo string) error {
	switch {
	case repo == "":
		return fmt.Errorf("image repository is empty: %w", ErrInvalid)
	case len(repo) > maxRepositoryLen:
		return fmt.Errorf("image repository %q is longer than %d characters: %w", truncate(repo, 40), maxRepositoryLen, ErrInvalid)
	case strings.Contains(repo, "@"):
		return WithHint(fmt.Errorf("image repository %q has a digest: %w", repo, ErrInvalid), "pass the repository only: release chooses the tags")
	}
	host, path := "", repo
	if i := strings.Index(repo, "/"); i >= 0 {
		first := repo[:i]
		if strings.ContainsAny(first, ".:[") || first == "localhost" {
			host, path = first, repo[i+1:]
		}
	}
	if host != "" && !repoHostRE.MatchString(host) {
		return fmt.Errorf("image repository %q: registry host %q is not valid: %w", repo, host, ErrInvalid)
	}
	if strings.Contains(path, ":") {
		return WithHint(fmt.Errorf("image repository %q has a tag: %w", repo, ErrInvalid), "pass the repository only: release chooses the tags")
	}
	for _, c := range strings.Split(path, "/") {
		if repoComponentRE.MatchString(c) {
			continue
		}
		if lower := strings.ToLower(c); lower != c && repoComponentRE.MatchString(lower) {
			fixed := strings.ToLower(path)
			if host != "" {
				fixed = host + "/" + fixed
			}
			return WithHint(fmt.Errorf("image repository %q must be lower case: %w", repo, ErrInvalid), "use --image "+fixed)
		}
		return fmt.Errorf("image repository %q: path component %q is not valid (lower-case letters and digits, separated by '.', '_', '__' or '-'): %w", repo, c, ErrInvalid)
	}
	return nil
}
