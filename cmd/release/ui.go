package main

// How release talks to people. The rules, in one place:
//
//   - stdout carries the result only (a version, notes, a digest, one JSON
//     document with --json). Everything else goes to stderr.
//   - Every stderr line starts with "release: ". Errors read
//     "release: error: <what went wrong>", followed where a fix is known by
//     "release: hint: <the fix>". Warnings read "release: warning: …".
//   - Messages are lower case and never end with a period.
//   - --quiet silences logs and warnings, never errors or results.
//   - Secrets never reach these lines: callers strip URL userinfo and redact
//     tokens before an error is built, and printError redacts what it knows.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/release"
)

// Exit codes of the product contract (SPEC §1).
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitConflict    = 3
	exitHistory     = 4
	exitInterrupted = 130
)

// usageError is a mistake in how the command was called: exit 2.
type usageError struct {
	err  error
	hint string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(hint, format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...), hint: hint}
}

// ui writes logs, warnings and errors to stderr.
type ui struct {
	stderr  io.Writer
	quiet   bool
	verbose bool
	secrets []string // values to redact from anything printed
}

// logf prints a progress or information line unless --quiet.
func (u *ui) logf(format string, args ...any) {
	if u.quiet {
		return
	}
	u.line("", fmt.Sprintf(format, args...))
}

// debugf prints a line only with --verbose.
func (u *ui) debugf(format string, args ...any) {
	if !u.verbose || u.quiet {
		return
	}
	u.line("debug: ", fmt.Sprintf(format, args...))
}

// warnf prints a warning unless --quiet.
func (u *ui) warnf(format string, args ...any) {
	if u.quiet {
		return
	}
	u.line("warning: ", fmt.Sprintf(format, args...))
}

// printError prints err and its hint. The first line of the message is the
// error; further lines (a subprocess's stderr tail) follow, indented.
func (u *ui) printError(err error) {
	msg := strings.TrimRight(err.Error(), "\n")
	first, rest, _ := strings.Cut(msg, "\n")
	u.line("error: ", first)
	if rest != "" {
		for _, l := range strings.Split(rest, "\n") {
			u.line("  ", strings.TrimRight(l, "\r"))
		}
	}
	if h := hintFor(err); h != "" {
		u.line("hint: ", h)
	}
}

func (u *ui) line(kind, msg string) {
	fmt.Fprintf(u.stderr, "release: %s%s\n", kind, u.redact(msg))
}

// redact masks what must never be printed: the password of any URL in s,
// and the secrets the command knows of (a token, the remote's password).
func (u *ui) redact(s string) string {
	s = gitinfo.RedactURL(s)
	for _, secret := range u.secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// exitCode maps an error to the exit code of the contract. It is the only
// place that decides exit codes.
func exitCode(err error) int {
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, release.ErrConflict),
		errors.Is(err, registry.ErrTagConflict),
		errors.Is(err, gitinfo.ErrTagConflict):
		return exitConflict
	case errors.Is(err, release.ErrHistory):
		return exitHistory
	default:
		return exitFailure
	}
}

// hintFor returns the fix for err: the outermost hint along the chain (a
// usage error's, a release.HintError's, or any error with a Hint method,
// as the registry's errors have), else a hint known for a sentinel.
func hintFor(err error) string {
	var usage *usageError
	if errors.As(err, &usage) && usage.hint != "" {
		return usage.hint
	}
	var he *release.HintError
	if errors.As(err, &he) && he.Hint != "" {
		return he.Hint
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) && h.Hint() != "" {
		return h.Hint()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, gitinfo.ErrNotRepository):
		return "run release inside a git repository or pass --repo DIR"
	case errors.Is(err, gitinfo.ErrEmptyRepository):
		return "make a first commit, then run release again"
	case errors.Is(err, release.ErrDirty):
		return "commit or stash the changes, or pass --allow-dirty"
	}
	return ""
}
