package release

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// PEP440 renders v as a normalized PEP 440 version, the spelling Python
// packaging tools print back:
//
//	1.2.0            → 1.2.0
//	1.2.0-alpha.1    → 1.2.0a1
//	1.2.0-beta.2     → 1.2.0b2
//	1.2.0-rc.1       → 1.2.0rc1
//	1.2.4-dev.5      → 1.2.4.dev5
//	1.2.4-dev.5+g1a2b3c4.dirty → 1.2.4.dev5+g1a2b3c4.dirty
//
// Only these prerelease shapes have a PEP 440 form whose order agrees with
// SemVer's; anything else (a bare `rc`, `RC.1`, `rc.1.dev.2`, `1`,
// `feature-x`, ...) returns an error wrapping ErrInvalid, and callers print an
// empty pep440 and refuse a Python build. Build metadata becomes the PEP 440
// local version, lower-cased with `-` normalized to `.` as packaging does.
// docs/versioning.md explains each decision, including the one place where
// the two orders differ (dev versus alpha/beta of the same release).
func PEP440(v *semver.Version) (string, error) {
	if v == nil {
		return "", fmt.Errorf("pep 440 form of an empty version: %w", ErrInvalid)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d.%d.%d", v.Major(), v.Minor(), v.Patch())
	if pre := v.Prerelease(); pre != "" {
		label, num, ok := strings.Cut(pre, ".")
		if !ok || !isDecimal(num) {
			return "", noPEP440(v, pre)
		}
		switch label {
		case "alpha":
			b.WriteString("a")
		case "beta":
			b.WriteString("b")
		case "rc":
			b.WriteString("rc")
		case "dev":
			b.WriteString(".dev")
		default:
			return "", noPEP440(v, pre)
		}
		b.WriteString(num)
	}
	if md := v.Metadata(); md != "" {
		local, err := pep440Local(md)
		if err != nil {
			return "", fmt.Errorf("version %s has no PEP 440 form: %w", v, err)
		}
		b.WriteString("+")
		b.WriteString(local)
	}
	return b.String(), nil
}

func noPEP440(v *semver.Version, pre string) error {
	return fmt.Errorf("version %s has no PEP 440 form: prerelease %q is not alpha.N, beta.N, rc.N or dev.N: %w", v, pre, ErrInvalid)
}

// isDecimal reports whether s is a SemVer numeric identifier: digits, no
// leading zero (so the PEP 440 number prints back unchanged).
func isDecimal(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// pep440Local turns SemVer build metadata into a normalized PEP 440 local
// version: segments of [a-z0-9] separated by '.', where SemVer's '-' inside
// an identifier is a separator too and all-digit segments lose leading
// zeros (packaging compares and prints them as integers).
func pep440Local(md string) (string, error) {
	segs := strings.FieldsFunc(md, func(r rune) bool { return r == '.' || r == '-' })
	// FieldsFunc drops empty fields; an empty one means a leading, trailing
	// or doubled separator, which PEP 440 does not allow.
	if len(segs) != strings.Count(md, ".")+strings.Count(md, "-")+1 {
		return "", fmt.Errorf("build metadata %q is not a PEP 440 local version: %w", md, ErrInvalid)
	}
	for i, s := range segs {
		for _, r := range s {
			if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				return "", fmt.Errorf("build metadata %q is not a PEP 440 local version: %w", md, ErrInvalid)
			}
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			segs[i] = strconv.FormatUint(n, 10)
			continue
		}
		segs[i] = strings.ToLower(s)
	}
	return strings.Join(segs, "."), nil
}
