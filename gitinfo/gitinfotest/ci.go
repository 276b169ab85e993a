package gitinfotest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// InCI reports whether the CI variable v asks for a complete test
// environment: CI systems set CI=true, and anything but empty, 0 or false
// counts. It is the rule release/releasetest applies to its variables, here
// so that packages under gitinfo (which must not import release) share it.
func InCI(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// Missing skips t for want of a component it needs (git,
// git-http-backend, ssh), or fails it when the CI environment variable is
// set as InCI reads it: a CI image without git must not turn the push and
// end-to-end tests green by skipping them.
func Missing(t testing.TB, msg string) {
	t.Helper()
	missingFrom(t, os.Getenv("CI"), msg)
}

// missingFrom is missing with the CI variable's value passed in.
func missingFrom(t testing.TB, ci, msg string) {
	t.Helper()
	if InCI(ci) {
		t.Fatalf("CI=%s: %s", ci, msg)
		return
	}
	t.Skip(msg)
}
