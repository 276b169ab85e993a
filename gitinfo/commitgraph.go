package gitinfo

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/go-git/go-billy/v5"
	cgformat "github.com/go-git/go-git/v5/plumbing/format/commitgraph/v2"
	"github.com/go-git/go-git/v5/plumbing/object/commitgraph"
)

// commitGraph holds the repository's commit-graph index, looked up once per
// Repo. A nil index means the repository has none (or has one git itself
// would not use, see nodeIndex).
type commitGraph struct {
	index cgformat.Index
	// generations is false for graphs written without generation numbers
	// (all zero): the nodes still save inflating commits, but the walk
	// must order by date.
	generations bool
}

func (g *commitGraph) close() error {
	if g.index == nil {
		return nil
	}
	return g.index.Close()
}

// nodeIndex returns the commit loader for walks and whether it serves
// generation numbers. With a commit-graph, nodes come from the graph (no
// commit inflation) and fall back to the object store for commits newer than
// the graph. Shallow repositories (shallow: the caller has just read
// .git/shallow) never use it: git does not either, because the graph may
// record parents the shallow clone does not have.
func (r *Repo) nodeIndex(shallow bool) (commitgraph.CommitNodeIndex, bool) {
	if r.graph == nil {
		g := &commitGraph{}
		if !shallow {
			// A graph that cannot be read is ignored, as git does: the
			// walk is still exact by dates, only slower.
			if idx, err := openCommitGraph(r.storage.Filesystem()); err == nil && idx != nil {
				g.index = idx
				g.generations = hasGenerations(idx)
			}
		}
		r.graph = g
	}
	if r.graph.index == nil {
		return commitgraph.NewObjectCommitNodeIndex(r.storage), false
	}
	return commitgraph.NewGraphCommitNodeIndex(r.graph.index, r.storage), r.graph.generations
}

// hasGenerations samples the first and last commits of the graph (the base
// and the newest layer of a chain) for non-zero generation numbers.
func hasGenerations(idx cgformat.Index) bool {
	n := idx.MaximumNumberOfHashes()
	if n == 0 {
		return false
	}
	for _, i := range []uint32{0, n - 1} {
		d, err := idx.GetCommitDataByIndex(i)
		if err != nil || d.Generation == 0 {
			return false
		}
	}
	return true
}

// openCommitGraph opens objects/info/commit-graph or, failing that, the
// split commit-graph chain. It returns (nil, nil) when there is neither. It
// opens the chain itself rather than through cgformat.OpenChainIndex, which
// panics when a graph file named in the chain is missing.
func openCommitGraph(dot billy.Filesystem) (cgformat.Index, error) {
	f, err := dot.Open(path.Join("objects", "info", "commit-graph"))
	if err == nil {
		idx, err := cgformat.OpenFileIndex(f)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("reading commit-graph: %w", err)
		}
		return idx, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("opening commit-graph: %w", err)
	}

	chainFile, err := dot.Open(path.Join("objects", "info", "commit-graphs", "commit-graph-chain"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening commit-graph chain: %w", err)
	}
	chain, err := cgformat.OpenChainFile(chainFile)
	_ = chainFile.Close()
	if err != nil {
		return nil, fmt.Errorf("reading commit-graph chain: %w", err)
	}
	var idx cgformat.Index
	for _, h := range chain {
		f, err := dot.Open(path.Join("objects", "info", "commit-graphs", "graph-"+h+".graph"))
		if err == nil {
			var next cgformat.Index
			next, err = cgformat.OpenFileIndexWithParent(f, idx)
			if err == nil {
				idx = next
				continue
			}
			_ = f.Close()
		}
		if idx != nil {
			_ = idx.Close()
		}
		return nil, fmt.Errorf("reading commit-graph %s: %w", h, err)
	}
	return idx, nil
}
