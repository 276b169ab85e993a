package release

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// maxTagLen is the longest tag the OCI distribution spec accepts.
const maxTagLen = 128

// DockerTag renders v as an image tag: the SemVer string without build
// metadata. `+` is not allowed in a tag, and replacing it with `-` (as some
// tools do) would read as a prerelease that sorts below the release, so the
// metadata is dropped: builds that differ only in metadata are the same
// version and get the same tag (the `sha-` tag tells commits apart).
//
// The result is made only of digits, letters, '.' and '-' and starts with a
// digit; DockerTag never truncates, so a version longer than 128 characters
// yields a tag that ValidTag rejects, which callers run before pushing.
func DockerTag(v *semver.Version) string {
	s := fmt.Sprintf("%d.%d.%d", v.Major(), v.Minor(), v.Patch())
	if pre := v.Prerelease(); pre != "" {
		s += "-" + pre
	}
	return s
}

// ValidTag reports whether s is a valid image tag, matching
// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; the error wraps ErrInvalid and says
// which character or length is wrong.
func ValidTag(s string) error {
	const pattern = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
	switch {
	case s == "":
		return fmt.Errorf("image tag is empty (must match %s): %w", pattern, ErrInvalid)
	case len(s) > maxTagLen:
		return fmt.Errorf("image tag %q is %d characters long (at most %d): %w", truncate(s, 40), len(s), maxTagLen, ErrInvalid)
	}
	for i, c := range s {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
		if i > 0 {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			return fmt.Errorf("image tag %q has %q at byte %d (must match %s): %w", s, c, i+1, pattern, ErrInvalid)
		}
	}
	return nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
