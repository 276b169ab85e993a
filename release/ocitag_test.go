package release

import (
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func TestDockerTag(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"1.2.3", "1.2.3"},
		{"0.1.0", "0.1.0"},
		{"1.2.0-rc.1", "1.2.0-rc.1"},
		{"1.2.3+g1a2b3c4", "1.2.3"},
		{"1.2.4-dev.5+g1a2b3c4.dirty", "1.2.4-dev.5"},
		{"1.0.0-x.7.z.92+build-1", "1.0.0-x.7.z.92"},
		{"1.0.0-RC.1", "1.0.0-RC.1"}, // tags are case-sensitive and allow upper case
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := DockerTag(semver.MustParse(tt.in))
			if got != tt.want {
				t.Errorf("DockerTag(%s) = %q, want %q", tt.in, got, tt.want)
			}
			if err := ValidTag(got); err != nil {
				t.Errorf("ValidTag(DockerTag(%s)): %v", tt.in, err)
			}
		})
	}
}

// TestDockerTagTooLong: a version longer than a tag may be is rendered in
// full and rejected by ValidTag, never silently truncated into another
// version.
func TestDockerTagTooLong(t *testing.T) {
	v := semver.MustParse("1.2.3-" + strings.Repeat("a", 130))
	got := DockerTag(v)
	if got != v.String() {
		t.Errorf("DockerTag changed a long version: %q", got)
	}
	if err := ValidTag(got); !errors.Is(err, ErrInvalid) {
		t.Errorf("ValidTag(%d characters) = %v, want ErrInvalid", len(got), err)
	}
}

func TestValidTag(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"1.2.3", true},
		{"latest", true},
		{"sha-1a2b3c4d5e6f", true},
		{"_x", true},
		{"A", true},
		{"1.2.0-rc.1", true},
		{strings.Repeat("a", 128), true},
		{"", false},
		{strings.Repeat("a", 129), false},
		{".1", false},
		{"-1", false},
		{"1.2.3+meta", false},
		{"feature/x", false},
		{"a b", false},
		{"é", false},
		{"a:b", false},
		{"a@b", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := ValidTag(tt.in)
			if tt.ok && err != nil {
				t.Errorf("ValidTag(%q) = %v, want nil", tt.in, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Errorf("ValidTag(%q) = %v, want an error wrapping ErrInvalid", tt.in, err)
			}
		})
	}
}

// TestDockerTagRoundTrip: the tag parses back as the same version (build
// metadata aside), so ordering tags by SemVer orders the versions.
func TestDockerTagRoundTrip(t *testing.T) {
	for _, s := range []string{"1.2.3", "1.2.3-rc.1", "0.0.1-alpha.beta.1", "1.2.4-dev.5+gabc1234"} {
		v := semver.MustParse(s)
		back, err := semver.StrictNewVersion(DockerTag(v))
		if err != nil {
			t.Fatalf("DockerTag(%s) is not SemVer: %v", s, err)
		}
		if back.Compare(v) != 0 {
			t.Errorf("DockerTag(%s) = %s, a different version", s, back)
		}
	}
}
