package registry

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// reference is a parsed image reference: a repository with a tag, a
// digest, both ("repo:tag@sha256:…", where the digest is authoritative) or
// neither.
type reference struct {
	registry string // host[:port]
	repo     string // repository path inside the registry
	tag      string
	digest   string
}

// digestPattern is the only digest form the client computes and checks.
var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// parseReference parses s. When defaultTag is set and s names neither a tag
// nor a digest, the tag is defaultTag (docker's "latest" rule for sources).
func parseReference(s, defaultTag string) (reference, error) {
	if shown, ok := withoutUserinfo(s); ok {
		return reference{}, &InvalidReferenceError{
			Err:  fmt.Errorf("reference %q: credentials do not belong in an image reference: %w", shown, ErrInvalidReference),
			hint: "drop them and log in instead: docker login HOST (release reads the Docker config)",
		}
	}
	left, dgst, hasDigest := strings.Cut(s, "@")
	if hasDigest && !digestPattern.MatchString(dgst) {
		return reference{}, fmt.Errorf("reference %q: digest must be sha256:<64 hex>: %w", s, ErrInvalidReference)
	}
	var r reference
	if i := strings.LastIndexByte(left, ':'); i > strings.LastIndexByte(left, '/') {
		t, err := name.NewTag(left, name.WeakValidation)
		if err != nil {
			return reference{}, fmt.Errorf("reference %q: %v: %w", s, err, ErrInvalidReference)
		}
		r = reference{registry: t.RegistryStr(), repo: t.RepositoryStr(), tag: t.TagStr()}
	} else {
		repo, err := name.NewRepository(left, name.WeakValidation)
		if err != nil {
			return reference{}, fmt.Errorf("reference %q: %v: %w", s, err, ErrInvalidReference)
		}
		r = reference{registry: repo.RegistryStr(), repo: repo.RepositoryStr()}
	}
	r.digest = dgst
	if r.tag == "" && r.digest == "" {
		r.tag = defaultTag
	}
	return r, nil
}

// Repository returns the repository ref names, "host/path", without its
// tag or digest, spelled as the client spells it (short names completed
// with the default registry). Callers use it to name other manifests and
// blobs of the same repository ("<repository>@sha256:…").
func Repository(ref string) (string, error) {
	r, err := parseReference(ref, "")
	if err != nil {
		return "", err
	}
	return r.repository(), nil
}

// tagPattern is the OCI tag grammar.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// validTag checks a tag against the OCI grammar.
func validTag(tag string) error {
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("tag %q: %w", tag, ErrInvalidReference)
	}
	return nil
}

// repository is "host/path".
func (r reference) repository() string { return r.registry + "/" + r.repo }

// identifier is what goes after /manifests/: the digest when known, else
// the tag.
func (r reference) identifier() string {
	if r.digest != "" {
		return r.digest
	}
	return r.tag
}

// String is the reference as a person writes it.
func (r reference) String() string {
	s := r.repository()
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

// isLoopback reports whether host (with or without port) is a loopback
// name or address.
func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// cosignTag is the tag cosign stores an attachment of digest d under,
// "sha256-<hex>.<suffix>", or the referrers fallback tag "sha256-<hex>"
// when suffix is empty.
func cosignTag(d, suffix string) string {
	t := strings.Replace(d, ":", "-", 1)
	if suffix != "" {
		t += "." + suffix
	}
	return t
}

// withoutUserinfo reports whether s starts with URL-style credentials
// ("user:password@host/…", "user@host/…") and returns s with them
// redacted, so that no error quotes a password someone typed.
func withoutUserinfo(s string) (string, bool) {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return s, false
	}
	if slash := strings.IndexByte(s, '/'); slash >= 0 && slash < at {
		return s, false // host/repo@digest
	}
	if strings.HasPrefix(s[at+1:], "sha256:") {
		return s, false // repo@digest without a host
	}
	return "[redacted]" + s[at:], true
}

// InvalidReferenceError is a reference that cannot be used, with a fix.
type InvalidReferenceError struct {
	Err  error
	hint string
}

func (e *InvalidReferenceError) Error() string { return e.Err.Error() }
func (e *InvalidReferenceError) Unwrap() error { return e.Err }

// Hint is the fix a person can apply.
func (e *InvalidReferenceError) Hint() string { return e.hint }
