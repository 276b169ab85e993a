// Package release is the domain of the tool: the version policy (which
// version comes next and why), the tag policy, the changelog, the docker
// invocation and the ordered steps of a release. Pure policy lives in files
// without I/O; the few functions that do I/O take a context first and reach
// git, registries and docker only through the small interfaces declared here.
package release

import "errors"

// Errors callers branch on (the command line maps them to exit codes and
// hints). Match them with errors.Is; they are wrapped with context.
var (
	// ErrConflict means a version or an immutable tag is already taken by
	// something else (exit 3).
	ErrConflict = errors.New("conflict")
	// ErrHistory means the local history cannot answer: a shallow clone
	// that stops before a release tag, or commits and tags that were never
	// fetched (exit 4).
	ErrHistory = errors.New("history insufficient")
	// ErrDirty means the worktree has uncommitted changes.
	ErrDirty = errors.New("worktree has uncommitted changes")
	// ErrInvalid means an input value (a version, tag, image reference,
	// option) is malformed. The command line reports it as a usage error
	// when it came from a flag.
	ErrInvalid = errors.New("invalid input")
)

// HintError carries a fix a person can apply, shown as `release: hint:`.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint attaches a fix a person can apply (a command, a flag) to err; the
// command line prints it as `release: hint: <hint>`. The error's message and
// what errors.Is/As see are unchanged. WithHint(nil, h) is nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: hint}
}

// Hint returns the hint attached to err or to any error it wraps (the
// outermost wins), or "" when there is none.
func Hint(err error) string {
	var h *HintError
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}
