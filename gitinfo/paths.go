package gitinfo

import (
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// cleanPaths turns LogQuery.Paths into path components. "." (or "") stands
// for the whole tree and yields an empty component list.
func cleanPaths(paths []string) ([][]string, error) {
	out := make([][]string, 0, len(paths))
	for _, p := range paths {
		c := path.Clean(strings.ReplaceAll(strings.TrimSpace(p), `\`, "/"))
		if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
			return nil, fmt.Errorf("path %q: outside the repository", p)
		}
		if c == "." {
			out = append(out, nil)
			continue
		}
		out = append(out, strings.Split(c, "/"))
	}
	return out, nil
}

type treeEntry struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

// treeCache decodes each tree once per walk and looks entries up by name,
// so a path is compared by walking down its components' subtree hashes, never
// by diffing whole trees (go-git's path-filtered Log does that, and is
// orders of magnitude slower).
type treeCache struct {
	s     storer.EncodedObjectStorer
	trees map[plumbing.Hash]map[string]treeEntry
}

func (tc *treeCache) entries(h plumbing.Hash) (map[string]treeEntry, error) {
	if m, ok := tc.trees[h]; ok {
		return m, nil
	}
	t, err := object.GetTree(tc.s, h)
	if err != nil {
		return nil, fmt.Errorf("reading tree %s: %w", h, err)
	}
	m := make(map[string]treeEntry, len(t.Entries))
	for _, e := range t.Entries {
		m[e.Name] = treeEntry{hash: e.Hash, mode: e.Mode}
	}
	tc.trees[h] = m
	return m, nil
}

// lookup returns the entry at comps under the root tree (the root itself for
// no components); ok is false when nothing is there.
func (tc *treeCache) lookup(root plumbing.Hash, comps []string) (e treeEntry, ok bool, err error) {
	if root.IsZero() {
		return treeEntry{}, false, nil
	}
	cur := treeEntry{hash: root, mode: filemode.Dir}
	for _, c := range comps {
		if cur.mode != filemode.Dir {
			return treeEntry{}, false, nil
		}
		m, err := tc.entries(cur.hash)
		if err != nil {
			return treeEntry{}, false, err
		}
		if cur, ok = m[c]; !ok {
			return treeEntry{}, false, nil
		}
	}
	return cur, true, nil
}

// touches reports whether the non-merge commit n changes anything under one
// of paths compared with its parent (the empty tree for a root commit or a
// commit cut by a shallow clone, as git does).
func (tc *treeCache) touches(n *walkNode, paths [][]string) (bool, error) {
	tree, err := treeOf(n)
	if err != nil {
		return false, err
	}
	var parentTree plumbing.Hash // zero: the empty tree
	if len(n.parents) == 1 {
		if parentTree, err = treeOf(n.parents[0]); err != nil {
			return false, err
		}
	}
	for _, p := range paths {
		a, aok, err := tc.lookup(tree, p)
		if err != nil {
			return false, err
		}
		b, bok, err := tc.lookup(parentTree, p)
		if err != nil {
			return false, err
		}
		if aok != bok || a != b {
			return true, nil
		}
	}
	return false, nil
}

func treeOf(n *walkNode) (plumbing.Hash, error) {
	c, err := n.cn.Commit()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("reading commit %s: %w", n.hash, err)
	}
	return c.TreeHash, nil
}
