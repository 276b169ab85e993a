// Package release is the domain of the `release` tool: the version policy
// (Conventional Commits, tags, renderings for PEP 440 and OCI), the changelog,
// and the orchestration of git, docker and registries behind small consumer
// interfaces declared here.
//
// Pure policy lives in files without I/O (conventional.go, version.go,
// pep440.go, ocitag.go, changelog.go); orchestration takes a context first and
// talks to the world only through the interfaces it declares (Git, ...).
package release

import "errors"

// Errors callers branch on. They are wrapped with context; match them with
// errors.Is. cmd/release maps them to exit codes.
var (
	// ErrConflict means a version or an immutable tag is already taken by
	// something else (exit 3).
	ErrConflict = errors.New("conflict")
	// ErrHistory means the local history cannot answer the question: a
	// shallow clone or missing tags (exit 4).
	ErrHistory = errors.New("history insufficient")
	// ErrDirty means the worktree has uncommitted changes where a clean one
	// is required.
	ErrDirty = errors.New("worktree has uncommitted changes")
	// ErrInvalid means an input (flag, version, tag, configuration) is not
	// acceptable.
	ErrInvalid = errors.New("invalid")
)

// HintError carries a fix a person can apply next to the error it fixes;
// cmd/release prints Hint as `release: hint: <hint>`. Create it with
// WithHint.
type HintError struct {
	Err  error
	Hint string
}

// Error is the wrapped error's message: the hint is printed separately.
func (e *HintError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error, so errors.Is/As see through the hint.
func (e *HintError) Unwrap() error { return e.Err }

// WithHint attaches a fix a person can apply (a command, a flag) to err. The
// error's message and what errors.Is/As find are unchanged. WithHint(nil, h)
// is nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: hint}
}

// Hint returns the hint attached to err or to an error it wraps (the
// outermost wins), or "" when there is none.
func Hint(err error) string {
	var h *HintError
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}
