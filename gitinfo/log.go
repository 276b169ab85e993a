package gitinfo

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object/commitgraph"
)

// LogQuery selects the commits of a Log: those reachable from Include and
// not reachable from Exclude (git's `rev-list INCLUDE --not EXCLUDE`), where
// a StopAt commit also counts as excluded once the walk reaches it.
//
// Every entry is a revision as Resolve accepts it. StopAt entries that are
// full hashes are not looked up (a tag may point at a commit a shallow clone
// does not have): they only match when the walk meets them.
type LogQuery struct {
	// Include are the tips whose history is listed, usually HEAD.
	Include []string
	// Exclude are commits whose history is left out, like git's ^rev.
	Exclude []string
	// StopAt are commits that, when the walk reaches them from Include,
	// are left out with their history and reported in Log.Reached. Unlike
	// Exclude, a StopAt commit that is not reachable from Include costs
	// nothing and excludes nothing: this is how the version walk stops at
	// the release tags of its own line in one pass.
	StopAt []string
	// Paths, when set, keeps only non-merge commits that change something
	// under one of these paths (slash-separated, relative to the
	// repository root; a file or a directory, no wildcards). A root
	// commit is compared with the empty tree.
	Paths []string
}

// Log is the result of a walk.
type Log struct {
	// Commits are the selected commits, children before parents, in git's
	// --date-order: a topological order with ties broken by commit date.
	Commits []Commit
	// Reached are the StopAt commits at the boundary of the selection:
	// those that are parents of a selected commit, or an Include commit
	// itself (HEAD is tagged). Each is reachable from Include. They come
	// in the order of Commits (Include commits first, then the parents of
	// each selected commit in parent order). StopAt commits further back,
	// behind a reached one, are not searched for.
	Reached []string
	// Shallow is set when a selected commit has parents a shallow clone
	// does not have: the history (and so Commits) may be incomplete.
	Shallow bool
	// Visited is how many commits the walk loaded, a measure of its cost
	// (it grows with the commits since the StopAt or Exclude commits, not
	// with the history).
	Visited int
}

// slop is how many extra uninteresting commits the date-ordered walk pops,
// once nothing interesting is queued, before trusting that no interesting
// commit is hidden behind a skewed clock (git's revision.c SLOP).
const slop = 5

// Node flags, after git's object flags in revision.h.
const (
	flagSeen          uint16 = 1 << iota // queued once (git SEEN)
	flagUninteresting                    // excluded (git UNINTERESTING)
	flagLoaded                           // date and parents known (git "parsed")
	flagInQueue                          // currently in the queue
	flagEmitted                          // popped while interesting (git's newlist)
	flagStopAt                           // listed in LogQuery.StopAt
	flagCut                              // parents missing: shallow boundary
)

type walkNode struct {
	hash    plumbing.Hash
	flags   uint16
	parents []*walkNode // present parents, once loaded
	date    int64       // committer time, Unix seconds (git compares seconds)
	gen     uint64      // commit-graph generation, MaxUint64 outside the graph
	seq     uint64      // queue insertion order, for stable ties
	cn      commitgraph.CommitNode
}

// Log lists the commits that q selects in one bounded walk: git's limit_list
// with a priority queue ordered by generation number when the repository has
// a commit-graph (exact), or by committer date with git's slop tolerance for
// clock skew otherwise. Already-seen commits reached from an excluded one are
// marked excluded recursively, so a commit that looked interesting early is
// dropped once an excluded descendant shows up. The walk stops when only
// excluded commits remain queued, so its cost follows the commits since the
// boundary, not the size of the history.
//
// In a shallow clone, the walk follows the parents the clone has and stops
// where they were not fetched, setting Log.Shallow when a selected commit
// lost parents that way; it never fails on the missing parents (go-git's own
// Log does, go-git#2409).
func (r *Repo) Log(ctx context.Context, q LogQuery) (*Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	paths, err := cleanPaths(q.Paths)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	shallowList, err := r.storage.Shallow()
	if err != nil {
		return nil, fmt.Errorf("reading shallow file: %w", err)
	}
	isShallow := len(shallowList) > 0
	idx, genOrder := r.nodeIndex(isShallow)
	w := &walker{
		idx:       idx,
		genOrder:  genOrder,
		nodes:     map[plumbing.Hash]*walkNode{},
		isShallow: isShallow,
	}

	include, err := r.resolveAll("include", q.Include, false)
	if err != nil {
		return nil, err
	}
	exclude, err := r.resolveAll("exclude", q.Exclude, false)
	if err != nil {
		return nil, err
	}
	// StopAt hashes are matched, not looked up: a tag's commit may be
	// missing from a shallow clone.
	stop, err := r.resolveAll("stop", q.StopAt, true)
	if err != nil {
		return nil, err
	}
	for _, h := range stop {
		w.node(h).flags |= flagStopAt
	}

	if err := w.walk(ctx, include, exclude); err != nil {
		return nil, err
	}
	selected := w.sorted()

	log := &Log{Visited: w.visited, Reached: w.boundary(include, selected)}
	tc := treeCache{s: r.storage, trees: map[plumbing.Hash]map[string]treeEntry{}}
	for i, n := range selected {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if n.flags&flagCut != 0 {
			log.Shallow = true
		}
		if len(paths) > 0 {
			if n.cn.NumParents() > 1 {
				continue // merges never count with Paths, even cut ones
			}
			changed, err := tc.touches(n, paths)
			if err != nil {
				return nil, err
			}
			if !changed {
				continue
			}
		}
		c, err := n.cn.Commit()
		if err != nil {
			return nil, fmt.Errorf("reading commit %s: %w", n.hash, err)
		}
		log.Commits = append(log.Commits, toCommit(c))
	}
	return log, nil
}

// resolveAll resolves revisions; with hashesAsIs, full hashes are taken
// without checking that the commit exists.
func (r *Repo) resolveAll(what string, revs []string, hashesAsIs bool) ([]plumbing.Hash, error) {
	out := make([]plumbing.Hash, 0, len(revs))
	for _, rev := range revs {
		if hashesAsIs && len(rev) == 40 && isHex(rev) {
			out = append(out, plumbing.NewHash(strings.ToLower(rev)))
			continue
		}
		h, err := r.resolve(rev)
		if err != nil {
			return nil, fmt.Errorf("resolving %s %q: %w", what, rev, err)
		}
		out = append(out, h)
	}
	return out, nil
}

type walker struct {
	idx       commitgraph.CommitNodeIndex
	genOrder  bool // order by generation numbers (commit-graph present)
	nodes     map[plumbing.Hash]*walkNode
	isShallow bool // the repository has a .git/shallow file
	queue     walkQueue
	seq       uint64
	visited   int
	// interestingQueued counts queued commits not (yet) excluded, so the
	// stop test (git's everybody_uninteresting) is O(1).
	interestingQueued int
	emitted           []*walkNode
}

func (w *walker) node(h plumbing.Hash) *walkNode {
	n, ok := w.nodes[h]
	if !ok {
		n = &walkNode{hash: h}
		w.nodes[h] = n
	}
	return n
}

// load reads n's date, generation and parents. It returns
// plumbing.ErrObjectNotFound (wrapped) when the commit is missing.
func (w *walker) load(n *walkNode) error {
	if n.flags&flagLoaded != 0 {
		return nil
	}
	cn, err := w.idx.Get(n.hash)
	if err != nil {
		return fmt.Errorf("reading commit %s: %w", n.hash, err)
	}
	w.visited++
	n.cn = cn
	n.date = cn.CommitTime().Unix()
	n.gen = cn.Generation()
	if !w.genOrder {
		n.gen = math.MaxUint64
	}
	n.flags |= flagLoaded
	ph := cn.ParentHashes()
	n.parents = make([]*walkNode, 0, len(ph))
	for _, p := range ph {
		n.parents = append(n.parents, w.node(p))
	}
	return nil
}

// push queues n once (git's SEEN).
func (w *walker) push(n *walkNode) {
	if n.flags&flagSeen != 0 {
		return
	}
	n.flags |= flagSeen | flagInQueue
	n.seq = w.seq
	w.seq++
	if n.flags&flagUninteresting == 0 {
		w.interestingQueued++
	}
	heap.Push(&w.queue, n)
}

func (w *walker) pop() *walkNode {
	n := heap.Pop(&w.queue).(*walkNode)
	n.flags &^= flagInQueue
	if n.flags&flagUninteresting == 0 {
		w.interestingQueued--
	}
	return n
}

// markUninteresting excludes n and, through the commits already loaded, its
// ancestors (git's mark_parents_uninteresting). Unloaded ancestors get the
// flag when they are reached.
func (w *walker) markUninteresting(n *walkNode) {
	stack := []*walkNode{n}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.flags&flagUninteresting != 0 {
			continue
		}
		c.flags |= flagUninteresting
		if c.flags&flagInQueue != 0 {
			w.interestingQueued--
		}
		if c.flags&flagLoaded != 0 {
			stack = append(stack, c.parents...)
		}
	}
}

// boundary lists the StopAt commits among the Include commits and the
// parents of the selected commits (git's --boundary, restricted to StopAt).
// It depends only on the selection, not on the order of the walk.
func (w *walker) boundary(include []plumbing.Hash, selected []*walkNode) []string {
	var out []string
	seen := map[*walkNode]bool{}
	add := func(n *walkNode) {
		if n.flags&flagStopAt != 0 && !seen[n] {
			seen[n] = true
			out = append(out, n.hash.String())
		}
	}
	for _, h := range include {
		add(w.nodes[h])
	}
	for _, n := range selected {
		for _, p := range n.parents {
			add(p)
		}
	}
	return out
}

// loadParents loads n's parents. A parent missing from a shallow clone cuts
// n there; missing elsewhere it is an error. Unlike git, which treats every
// commit listed in .git/shallow as a root, parents that a shallow clone does
// have are followed: a deeper fetch may have brought them in through another
// path, and their history is real.
func (w *walker) loadParents(n *walkNode) error {
	kept := n.parents[:0]
	for _, p := range n.parents {
		err := w.load(p)
		if errors.Is(err, plumbing.ErrObjectNotFound) && w.isShallow {
			n.flags |= flagCut
			continue
		}
		if err != nil {
			return err
		}
		kept = append(kept, p)
	}
	n.parents = kept
	return nil
}

// walk is git's limit_list for `INCLUDE --not EXCLUDE` plus StopAt.
func (w *walker) walk(ctx context.Context, include, exclude []plumbing.Hash) error {
	for _, h := range include {
		n := w.node(h)
		if err := w.load(n); err != nil {
			return err
		}
		w.push(n)
	}
	for _, h := range exclude {
		n := w.node(h)
		if err := w.load(n); err != nil {
			return err
		}
		w.markUninteresting(n)
		w.push(n)
	}

	lastDate := int64(math.MaxInt64) // date of the last interesting commit popped
	left := slop
	for pops := 0; w.queue.Len() > 0; pops++ {
		if pops%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		n := w.pop()
		if n.flags&flagStopAt != 0 {
			w.markUninteresting(n)
		}
		if err := w.loadParents(n); err != nil {
			return err
		}
		for _, p := range n.parents {
			if n.flags&flagUninteresting != 0 {
				w.markUninteresting(p)
			}
			w.push(p)
		}
		if n.flags&flagUninteresting == 0 {
			n.flags |= flagEmitted
			w.emitted = append(w.emitted, n)
			lastDate = n.date
			continue
		}
		// still_interesting: may the walk stop here?
		if w.queue.Len() == 0 {
			break
		}
		head := w.queue.nodes[0]
		if w.interestingQueued == 0 && head.gen != math.MaxUint64 {
			// Everything queued is in the commit-graph and popped in
			// generation order: no excluded commit left to find can
			// be a descendant of anything emitted. Exact.
			break
		}
		if lastDate <= head.date || w.interestingQueued > 0 {
			left = slop
			continue
		}
		left--
		if left == 0 {
			break
		}
	}
	return nil
}

// sorted returns the emitted commits still interesting, in git's
// sort_in_topological_order with REV_SORT_BY_COMMIT_DATE: a commit comes
// after all its children; among commits ready to be shown the newest
// (committer date, then first emitted) goes first.
func (w *walker) sorted() []*walkNode {
	var list []*walkNode
	for _, n := range w.emitted {
		if n.flags&flagUninteresting == 0 {
			list = append(list, n)
		}
	}
	indegree := make(map[*walkNode]int, len(list))
	for _, n := range list {
		indegree[n] = 1
	}
	for _, n := range list {
		for _, p := range n.parents {
			if indegree[p] > 0 {
				indegree[p]++
			}
		}
	}
	q := &dateQueue{}
	var seq uint64
	put := func(n *walkNode) {
		heap.Push(q, dateItem{n: n, seq: seq})
		seq++
	}
	for _, n := range list {
		if indegree[n] == 1 {
			put(n)
		}
	}
	out := make([]*walkNode, 0, len(list))
	for q.Len() > 0 {
		n := heap.Pop(q).(dateItem).n
		for _, p := range n.parents {
			if indegree[p] == 0 {
				continue
			}
			indegree[p]--
			if indegree[p] == 1 {
				put(p)
			}
		}
		indegree[n] = 0
		out = append(out, n)
	}
	return out
}

// walkQueue is the walk's priority queue: highest generation first (when
// ordering by generation), then newest committer date, then first queued.
type walkQueue struct {
	nodes []*walkNode
}

func (q *walkQueue) Len() int { return len(q.nodes) }
func (q *walkQueue) Less(i, j int) bool {
	a, b := q.nodes[i], q.nodes[j]
	if a.gen != b.gen {
		return a.gen > b.gen
	}
	if a.date != b.date {
		return a.date > b.date
	}
	return a.seq < b.seq
}
func (q *walkQueue) Swap(i, j int) { q.nodes[i], q.nodes[j] = q.nodes[j], q.nodes[i] }
func (q *walkQueue) Push(x any)    { q.nodes = append(q.nodes, x.(*walkNode)) }
func (q *walkQueue) Pop() any {
	n := q.nodes[len(q.nodes)-1]
	q.nodes = q.nodes[:len(q.nodes)-1]
	return n
}

type dateItem struct {
	n   *walkNode
	seq uint64
}

// dateQueue orders by committer date, newest first, then insertion order
// (git's compare_commits_by_commit_date on a prio_queue).
type dateQueue []dateItem

func (q dateQueue) Len() int { return len(q) }
func (q dateQueue) Less(i, j int) bool {
	if q[i].n.date != q[j].n.date {
		return q[i].n.date > q[j].n.date
	}
	return q[i].seq < q[j].seq
}
func (q dateQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dateQueue) Push(x any)   { *q = append(*q, x.(dateItem)) }
func (q *dateQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
