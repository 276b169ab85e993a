package gitinfo

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
)

// packedTag is a tag as packed-refs records it: the object the ref names
// and, for an annotated tag, the commit (or other object) it peels to.
type packedTag struct {
	object plumbing.Hash
	peeled plumbing.Hash // zero: the ref does not peel further
}

// packedTagPeels reads the peeled targets git writes into packed-refs
// ("^<hash>" after a tag ref). They are only complete when the file's
// header says "peeled" (every refs/tags/ ref that peels has its line) or
// "fully-peeled" (every ref): otherwise nil is returned and tags are
// peeled by reading their objects. This is how git itself lists tags
// without inflating a thousand tag objects.
func (r *Repo) packedTagPeels() map[string]packedTag {
	data, err := os.ReadFile(filepath.Join(r.commonDir, "packed-refs"))
	if err != nil {
		return nil // absent or unreadable: peel from objects
	}
	return parsePackedTagPeels(data)
}

func parsePackedTagPeels(data []byte) map[string]packedTag {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	if !sc.Scan() {
		return nil
	}
	header := sc.Bytes()
	traits, ok := bytes.CutPrefix(header, []byte("# pack-refs with:"))
	if !ok {
		return nil
	}
	complete := false
	for _, t := range bytes.Fields(traits) {
		if string(t) == "peeled" || string(t) == "fully-peeled" {
			complete = true
		}
	}
	if !complete {
		return nil
	}
	out := map[string]packedTag{}
	last := ""
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 41 && line[0] == '^':
			if last != "" {
				h, ok := parseHash(line[1:])
				if !ok {
					return nil
				}
				t := out[last]
				t.peeled = h
				out[last] = t
			}
			last = ""
		case len(line) > 41 && line[40] == ' ':
			last = ""
			name, ok := bytes.CutPrefix(line[41:], []byte("refs/tags/"))
			if !ok {
				continue
			}
			h, ok := parseHash(line[:40])
			if !ok || len(name) == 0 {
				return nil
			}
			last = string(name)
			out[last] = packedTag{object: h}
		default:
			return nil // not a file we understand: peel from objects
		}
	}
	if sc.Err() != nil {
		return nil
	}
	return out
}

func parseHash(b []byte) (plumbing.Hash, bool) {
	if len(b) != 40 || !isHex(string(b)) {
		return plumbing.ZeroHash, false
	}
	return plumbing.NewHash(string(b)), true
}
