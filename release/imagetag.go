package release

import (
	"strings"

	"github.com/Masterminds/semver/v3"
)

// VersionOfTag reads an image tag as a release version, the way promote
// reads the source tag and the destination's tags (K of the tag policy):
//
//	1.2.3, 1.2.0-rc.1         strict SemVer, as release build spells tags
//	v1.2.3                    the same with a leading v (git-tag style)
//	1.2.0rc1, 1.2.4.dev5      the PEP 440 spelling of --tag-style pep440
//
// Anything else (1.2, latest, sha-…, 01.2.3, 1.2.3.4) is not a version.
// Tags cannot carry build metadata, so the result has none. The PEP 440
// forms are exactly those PEP440 writes (aN, bN, rcN, .devN, no leading
// zeros), so reading a tag back gives the version it was written for.
func VersionOfTag(tag string) (*semver.Version, bool) {
	s := strings.TrimPrefix(tag, "v")
	if v, err := semver.StrictNewVersion(s); err == nil && v.Metadata() == "" {
		return v, true
	}
	return pep440Tag(s)
}

// pep440Tag reads X.Y.Z followed by aN, bN, rcN or .devN.
func pep440Tag(s string) (*semver.Version, bool) {
	core, label, num := s, "", ""
	for _, form := range []struct{ sep, label string }{
		{".dev", "dev"}, {"rc", "rc"}, {"a", "alpha"}, {"b", "beta"},
	} {
		if i := strings.LastIndex(s, form.sep); i > 0 {
			core, label, num = s[:i], form.label, s[i+len(form.sep):]
			break
		}
	}
	if label == "" || !isDecimal(num) {
		return nil, false
	}
	v, err := semver.StrictNewVersion(core + "-" + label + "." + num)
	if err != nil || v.Prerelease() != label+"."+num {
		return nil, false
	}
	// Only the exact spelling PEP440 writes reads back (no 1.2.0rc01).
	if back, err := PEP440(v); err != nil || back != s {
		return nil, false
	}
	return v, true
}

// versionOfLabel reads an org.opencontainers.image.version value: strict
// SemVer, with or without a leading v, build metadata allowed (a --dev
// build's label carries it).
func versionOfLabel(s string) (*semver.Version, bool) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(strings.TrimSpace(s), "v"))
	return v, err == nil
}
