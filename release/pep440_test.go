package release

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func TestPEP440(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means: no PEP 440 form (ErrInvalid)
	}{
		{"1.2.0", "1.2.0"},
		{"0.0.0", "0.0.0"},
		{"10.20.30", "10.20.30"},
		{"1.2.0-alpha.1", "1.2.0a1"},
		{"1.2.0-alpha.0", "1.2.0a0"},
		{"1.2.0-beta.2", "1.2.0b2"},
		{"1.2.0-rc.1", "1.2.0rc1"},
		{"1.2.0-rc.10", "1.2.0rc10"},
		{"1.2.4-dev.5", "1.2.4.dev5"},
		{"1.2.4-dev.0", "1.2.4.dev0"},
		{"1.2.0+g1a2b3c4", "1.2.0+g1a2b3c4"},
		{"1.2.4-dev.5+g1a2b3c4", "1.2.4.dev5+g1a2b3c4"},
		{"1.2.4-dev.5+g1a2b3c4.dirty", "1.2.4.dev5+g1a2b3c4.dirty"},
		{"1.2.0-rc.1+build.5", "1.2.0rc1+build.5"},
		{"1.2.0+G1A2B3C", "1.2.0+g1a2b3c"},   // PEP 440 is case-insensitive, normalized lower
		{"1.2.0+build-5", "1.2.0+build.5"},   // '-' is a local separator, normalized to '.'
		{"1.2.0+build.007", "1.2.0+build.7"}, // numeric local segments print as integers
		{"1.2.0+0abc", "1.2.0+0abc"},         // not all digits: kept
		{"1.2.0-rc", ""},                     // bare label: rc vs rc.0 would collide
		{"1.2.0-alpha", ""},                  // same
		{"1.2.0-RC.1", ""},                   // SemVer orders RC before alpha; PEP 440 does not
		{"1.2.0-rc.1.dev.2", ""},             // SemVer: after rc.1; PEP 440 rc1.dev2: before rc1
		{"1.2.0-alpha.1.dev.2", ""},          // same
		{"1.2.0-rc.1.2", ""},                 // no mapping
		{"1.2.0-rc1", ""},                    // alphanumeric identifier: rc10 < rc9 in SemVer
		{"1.2.0-1", ""},                      // would be a post-release in PEP 440, sorting above 1.2.0
		{"1.2.0-post.1", ""},                 // same
		{"1.2.0-c.1", ""},                    // collides with rc.1
		{"1.2.0-pre.1", ""},                  // collides with rc.1
		{"1.2.0-preview.1", ""},              // collides with rc.1
		{"1.2.0-feature-x", ""},              // no mapping
		{"1.0.0-x.7.z.92", ""},               // no mapping
		{"1.2.0-0.3.7", ""},                  // no mapping
		{"1.2.0-dev.1.rc.1", ""},             // no mapping
		{"1.2.0+-abc", ""},                   // empty local segment
		{"1.2.0+abc-", ""},                   // empty local segment
		{"1.2.0+a--b", ""},                   // empty local segment
		{"18446744073709551615.0.0", "18446744073709551615.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v := semver.MustParse(tt.in)
			got, err := PEP440(v)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("PEP440(%s) = %q, %v; want an error wrapping ErrInvalid", tt.in, got, err)
				}
				if got != "" {
					t.Errorf("PEP440(%s) returned %q with its error; want \"\"", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("PEP440(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("PEP440(%s) = %q, want %q", tt.in, got, tt.want)
			}
			if !pep440Canonical.MatchString(got) {
				t.Errorf("PEP440(%s) = %q, not in the canonical PEP 440 shape", tt.in, got)
			}
		})
	}
}

func TestPEP440Nil(t *testing.T) {
	if _, err := PEP440(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("PEP440(nil) error = %v, want ErrInvalid", err)
	}
}

// TestPEP440UnvalidatedVersion covers versions built with semver.New, which
// does not validate: a leading zero or a stray character must not leak into
// a PEP 440 string that packaging would print differently.
func TestPEP440UnvalidatedVersion(t *testing.T) {
	for _, v := range []*semver.Version{
		semver.New(1, 2, 0, "rc.01", ""),
		semver.New(1, 2, 0, "rc.", ""),
		semver.New(1, 2, 0, "rc.1", "a_b"),
		semver.New(1, 2, 0, "", "a+b"),
	} {
		if got, err := PEP440(v); !errors.Is(err, ErrInvalid) {
			t.Errorf("PEP440(%s) = %q, %v; want ErrInvalid", v, got, err)
		}
	}
}

// TestPEP440Order checks that for every pair of versions PEP440 accepts,
// PEP 440 orders them as SemVer does, with the one documented exception:
// PEP 440 puts X.Y.Z.devN before every pre-release of X.Y.Z, while SemVer's
// ASCII order puts dev between beta and rc (docs/versioning.md).
func TestPEP440Order(t *testing.T) {
	var vs []*semver.Version
	for _, core := range []string{"0.9.9", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0"} {
		vs = append(vs, semver.MustParse(core))
		for _, label := range []string{"alpha", "beta", "rc", "dev"} {
			for _, n := range []int{0, 1, 2, 9, 10, 11} {
				vs = append(vs, semver.MustParse(fmt.Sprintf("%s-%s.%d", core, label, n)))
			}
		}
	}
	exceptions := 0
	for _, a := range vs {
		pa := mustPEP440(t, a)
		for _, b := range vs {
			pb := mustPEP440(t, b)
			s, p := a.Compare(b), comparePEP440(t, pa, pb)
			if s == p {
				continue
			}
			if devVersusAlphaBeta(a, b) {
				exceptions++
				continue
			}
			t.Errorf("order differs: SemVer %s vs %s = %d, PEP 440 %s vs %s = %d", a, b, s, pa, pb, p)
		}
	}
	// Pins the exception: if a change of mapping makes it disappear, the
	// documentation must change with it.
	if exceptions == 0 {
		t.Errorf("no dev versus alpha/beta disagreement seen; update docs/versioning.md")
	}
}

// devVersusAlphaBeta reports whether a and b are dev and alpha/beta
// prereleases of the same release.
func devVersusAlphaBeta(a, b *semver.Version) bool {
	if a.Major() != b.Major() || a.Minor() != b.Minor() || a.Patch() != b.Patch() {
		return false
	}
	la, _, _ := strings.Cut(a.Prerelease(), ".")
	lb, _, _ := strings.Cut(b.Prerelease(), ".")
	ab := func(l string) bool { return l == "alpha" || l == "beta" }
	return la == "dev" && ab(lb) || lb == "dev" && ab(la)
}

func mustPEP440(t testing.TB, v *semver.Version) string {
	t.Helper()
	s, err := PEP440(v)
	if err != nil {
		t.Fatalf("PEP440(%s): %v", v, err)
	}
	return s
}

// pep440Canonical is the normalized form of the PEP 440 subset PEP440 emits.
var pep440Canonical = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)((a|b|rc)(0|[1-9][0-9]*)|\.dev(0|[1-9][0-9]*))?(\+[a-z0-9]+(\.[a-z0-9]+)*)?$`)

// pep440Key is the sort key of PEP 440 (as packaging computes it) for the
// subset PEP440 emits; local versions are not compared (SemVer ignores
// build metadata).
type pep440Key struct {
	release [3]uint64
	phase   int // 0 dev-only, 1 a, 2 b, 3 rc, 4 final
	pre     uint64
	dev     uint64 // math.MaxUint64 when there is no .devN
}

func parsePEP440(t testing.TB, s string) pep440Key {
	t.Helper()
	m := pep440Canonical.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%q is not a canonical PEP 440 version of the emitted subset", s)
	}
	num := func(s string) uint64 {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("number %q: %v", s, err)
		}
		return n
	}
	k := pep440Key{release: [3]uint64{num(m[1]), num(m[2]), num(m[3])}, phase: 4, dev: ^uint64(0)}
	switch {
	case m[5] != "":
		k.phase = map[string]int{"a": 1, "b": 2, "rc": 3}[m[5]]
		k.pre = num(m[6])
	case m[7] != "":
		k.phase = 0
		k.dev = num(m[7])
	}
	return k
}

func comparePEP440(t testing.TB, a, b string) int {
	ka, kb := parsePEP440(t, a), parsePEP440(t, b)
	for i := range ka.release {
		if c := cmpUint(ka.release[i], kb.release[i]); c != 0 {
			return c
		}
	}
	if ka.phase != kb.phase {
		return cmpUint(uint64(ka.phase), uint64(kb.phase))
	}
	if c := cmpUint(ka.pre, kb.pre); c != 0 {
		return c
	}
	return cmpUint(ka.dev, kb.dev)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// FuzzPEP440 checks that PEP440 never panics, that what it accepts is
// canonical PEP 440, that SemVer-equal versions map to one public PEP 440
// version, and that the two orders agree (except dev versus alpha/beta of
// one release, documented).
func FuzzPEP440(f *testing.F) {
	for _, s := range []string{"1.2.0", "1.2.0-rc.1", "1.2.0-alpha.2", "1.2.0-beta.0", "1.2.4-dev.5+g1a2b3c4.dirty", "1.2.0-rc.1.dev.2", "1.2.0+Build-007"} {
		f.Add(s, "1.2.0-rc.2")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err := semver.StrictNewVersion(a)
		if err != nil {
			return
		}
		pa, err := PEP440(va)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("PEP440(%s) error %v does not wrap ErrInvalid", a, err)
			}
			return
		}
		parsePEP440(t, pa)
		vb, err := semver.StrictNewVersion(b)
		if err != nil {
			return
		}
		pb, err := PEP440(vb)
		if err != nil {
			return
		}
		if s, p := va.Compare(vb), comparePEP440(t, pa, pb); s != p && !devVersusAlphaBeta(va, vb) {
			t.Errorf("order differs: SemVer %s vs %s = %d, PEP 440 %s vs %s = %d", a, b, s, pa, pb, p)
		}
	})
}

// TestPEP440AgainstPackaging asks Python's packaging library (what pip uses)
// to normalize every string PEP440 produces: it must print it back
// unchanged, and sort the versions as PEP440's ordering test assumes.
// Skipped when python3 with packaging is not installed, except under CI
// (scripts/testenv installs Debian's python3-packaging).
func TestPEP440AgainstPackaging(t *testing.T) {
	python := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import packaging.version").Run() == nil {
			python = path
			break
		}
	}
	if python == "" {
		gitinfotest.Missing(t, "no python3 with the packaging module (Debian: python3-packaging; scripts/testenv up installs it)")
	}
	ins := []string{"1.2.0", "1.2.0-alpha.1", "1.2.0-beta.2", "1.2.0-rc.1", "1.2.0-rc.10",
		"1.2.4-dev.5", "1.2.4-dev.5+g1a2b3c4.dirty", "1.2.0-rc.1+build.5", "1.2.0+G1A2B3C",
		"1.2.0+build-5", "1.2.0+build.007", "1.2.0+0abc", "0.0.0"}
	var outs []string
	for _, in := range ins {
		outs = append(outs, mustPEP440(t, semver.MustParse(in)))
	}
	const script = `
import sys
from packaging.version import Version
for line in sys.stdin.read().split():
    print(str(Version(line)))
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(outs, "\n"))
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	if diff := cmp.Diff(outs, strings.Fields(string(got))); diff != "" {
		t.Errorf("packaging normalizes PEP440 output differently (-ours +packaging):\n%s", diff)
	}
}
