package gitinfo

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
)

func TestParsePackedTagPeels(t *testing.T) {
	const (
		a = "1111111111111111111111111111111111111111"
		b = "2222222222222222222222222222222222222222"
		c = "3333333333333333333333333333333333333333"
	)
	h := plumbing.NewHash
	tests := []struct {
		name string
		file string
		want map[string]packedTag
	}{
		{"fully peeled", "# pack-refs with: peeled fully-peeled sorted \n" +
			a + " refs/heads/main\n" + b + " refs/tags/v1.0.0\n^" + a + "\n" + a + " refs/tags/v0.9.0\n",
			map[string]packedTag{"v1.0.0": {object: h(b), peeled: h(a)}, "v0.9.0": {object: h(a)}}},
		{"peeled (tags only)", "# pack-refs with: peeled \n" + c + " refs/tags/x\n^" + a + "\n",
			map[string]packedTag{"x": {object: h(c), peeled: h(a)}}},
		{"a peel line after a branch is not a tag's", "# pack-refs with: fully-peeled \n" + c + " refs/heads/t\n^" + a + "\n",
			map[string]packedTag{}},
		{"no peeled trait", "# pack-refs with: sorted \n" + b + " refs/tags/v1.0.0\n", nil},
		{"no header", b + " refs/tags/v1.0.0\n", nil},
		{"garbage", "# pack-refs with: peeled \nnot a ref line\n", nil},
		{"bad hash", "# pack-refs with: peeled \n" + "zz" + a[2:] + " refs/tags/v1\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parsePackedTagPeels([]byte(tt.file))
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(packedTag{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParsePackedTagPeels: any packed-refs content gives peels only for
// well-formed tag lines, never a panic.
func FuzzParsePackedTagPeels(f *testing.F) {
	h := "1111111111111111111111111111111111111111"
	for _, s := range []string{
		"# pack-refs with: peeled fully-peeled sorted \n" + h + " refs/tags/v1\n^" + h + "\n",
		"# pack-refs with: peeled \n^" + h + "\n", "# pack-refs with: peeled \n" + h + " refs/tags/\n", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, p := range parsePackedTagPeels([]byte(s)) {
			if p.object.IsZero() && name == "" {
				t.Errorf("empty entry")
			}
		}
	})
}
