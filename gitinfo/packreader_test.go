package gitinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// TestPackReader reads every object of packs made by git in several shapes
// and compares type and content with go-git's own reader.
func TestPackReader(t *testing.T) {
	gitinfotest.GitPath(t)
	tests := []struct {
		name  string
		want  plumbing.ObjectType // an entry type the packs must contain
		shape func(r *gitinfotest.Repo)
	}{
		{"offset deltas", plumbing.OFSDeltaObject, func(r *gitinfotest.Repo) {
			r.Git("repack", "-adfq", "--window=50", "--depth=50")
		}},
		{"ref deltas", plumbing.REFDeltaObject, func(r *gitinfotest.Repo) {
			r.Git("-c", "repack.useDeltaBaseOffset=false", "repack", "-adfq", "--window=50", "--depth=50")
		}},
		{"64-bit offsets", plumbing.OFSDeltaObject, func(r *gitinfotest.Repo) {
			r.Git("repack", "-adfq", "--window=50", "--depth=50")
			packs, _ := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.pack"))
			for _, p := range packs {
				idx := strings.TrimSuffix(p, ".pack") + ".idx"
				if err := os.Remove(idx); err != nil {
					t.Fatal(err)
				}
				// Every object after the first (at offset 12, right
				// after the pack header) goes to the large-offset table.
				r.Git("index-pack", "--index-version=2,12", "-o", idx, p)
			}
		}},
		{"several packs and loose objects", plumbing.CommitObject, func(r *gitinfotest.Repo) {
			r.Git("repack", "-dq")
			r.Commit("in a second pack", gitinfotest.File("second.txt", "2\n"))
			r.Git("repack", "-dq")
			if packs, _ := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.pack")); len(packs) != 2 {
				t.Fatalf("%d packs, want 2", len(packs))
			}
			r.Commit("loose after the packs", gitinfotest.File("late.txt", "late\n"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := gitinfotest.New(t)
			// Many versions of a few files: git deltifies them.
			body := strings.Repeat("line of text that stays the same\n", 40)
			for i := 0; i < 30; i++ {
				r.Commit(fmt.Sprintf("change %d", i),
					gitinfotest.File("app/main.py", body+fmt.Sprintf("version %d\n", i)),
					gitinfotest.File(fmt.Sprintf("app/mod%d.py", i%5), body+fmt.Sprintf("mod %d\n", i)))
			}
			r.AnnotatedTag("v1.0.0", "HEAD", "release")
			tc.shape(r)

			dot := osfs.New(filepath.Join(r.Dir, ".git"))
			plain := filesystem.NewStorage(dot, cache.NewObjectLRUDefault())
			defer plain.Close()
			pr := newPackReader(filepath.Join(r.Dir, ".git", "objects"))
			defer pr.close()
			// objectType on a reader that inflated nothing: its answers
			// come from walking entry headers down delta chains, not
			// from the cache of inflated objects that pr fills.
			headers := newPackReader(filepath.Join(r.Dir, ".git", "objects"))
			defer headers.close()

			iter, err := plain.IterEncodedObjects(plumbing.AnyObject)
			if err != nil {
				t.Fatal(err)
			}
			n, packed := 0, 0
			entryTypes := map[plumbing.ObjectType]int{}
			err = iter.ForEach(func(want plumbing.EncodedObject) error {
				n++
				got, err := pr.object(want.Hash())
				if err != nil {
					return fmt.Errorf("object %s: %w", want.Hash(), err)
				}
				if got == nil {
					return nil // loose: go-git's business
				}
				packed++
				entryTypes[entryType(t, pr, want.Hash())]++
				if got.Type() != want.Type() || got.Hash() != want.Hash() {
					t.Errorf("object %s: got %v %s, want %v", want.Hash(), got.Type(), got.Hash(), want.Type())
				}
				if g, w := content(t, got), content(t, want); g != w {
					t.Errorf("object %s: content differs:\n%q\nwant\n%q", want.Hash(), g, w)
				}
				if plumbing.ComputeHash(got.Type(), []byte(content(t, got))) != want.Hash() {
					t.Errorf("object %s: content does not hash to it", want.Hash())
				}
				for name, r := range map[string]*packReader{"after object": pr, "headers only": headers} {
					typ, found, err := r.objectType(want.Hash())
					if err != nil || !found || typ != want.Type() {
						t.Errorf("objectType(%s), %s = %v, %v, %v; want %v", want.Hash(), name, typ, found, err, want.Type())
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if packed == 0 || n < 60 || entryTypes[tc.want] == 0 {
				t.Fatalf("read %d objects (%d packed, entries %v): the fixture is wrong", n, packed, entryTypes)
			}
			if tc.name == "64-bit offsets" {
				idxs, _ := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.idx"))
				fi, err := os.Stat(idxs[0])
				if err != nil {
					t.Fatal(err)
				}
				if small := int64(8 + 256*4 + packed*28 + 40); fi.Size() <= small {
					t.Fatalf("idx is %d bytes, no larger than %d: no 64-bit offset table", fi.Size(), small)
				}
			}
			missing := plumbing.NewHash("0123456789012345678901234567890123456789")
			if got, err := pr.object(missing); got != nil || err != nil {
				t.Errorf("missing object: %v, %v", got, err)
			}
			if typ, found, err := headers.objectType(missing); found || err != nil {
				t.Errorf("objectType of a missing object = %v, %v, %v; want not found", typ, found, err)
			}
			if len(headers.bases) != 0 {
				t.Errorf("objectType inflated %d objects", len(headers.bases))
			}
		})
	}
}

// entryType returns the type recorded in h's pack entry header (deltas
// stay deltas).
func entryType(t *testing.T, pr *packReader, h plumbing.Hash) plumbing.ObjectType {
	t.Helper()
	for _, p := range pr.packs {
		off, err := p.find(h)
		if err != nil {
			t.Fatal(err)
		}
		if off >= 0 {
			eh, err := readEntryHeader(bufio.NewReader(io.NewSectionReader(p.data, off, 1<<62)), off)
			if err != nil {
				t.Fatal(err)
			}
			return eh.typ
		}
	}
	t.Fatalf("%s not in a pack", h)
	return 0
}

func content(t *testing.T, o plumbing.EncodedObject) string {
	t.Helper()
	rd, err := o.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
