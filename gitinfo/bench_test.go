package gitinfo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// benchHistories are the generated repositories of the benchmarks: the same
// recent history (1,000 release tags, the last one 100 commits behind HEAD,
// a merged feature branch every 10 main-line commits) on 100,000 and
// 300,000 commits, with and without a commit-graph. The walk's cost must
// follow the commits since the tag, not the history.
func benchHistories() []gitinfotest.HistoryParams {
	var out []gitinfotest.HistoryParams
	for _, n := range []int{100_000, 300_000} {
		for _, graph := range []bool{false, true} {
			out = append(out, gitinfotest.HistoryParams{
				Commits: n, Tags: 1000, SinceTag: 100, MergeEvery: 10, BranchLength: 3, CommitGraph: graph,
			})
		}
	}
	// The same 100k history with ten times more commits since the last
	// tag: here the cost must grow.
	return append(out, gitinfotest.HistoryParams{
		Commits: 100_000, Tags: 1000, SinceTag: 1000, MergeEvery: 10, BranchLength: 3,
	})
}

func benchName(p gitinfotest.HistoryParams) string {
	return fmt.Sprintf("commits=%dk/since-tag=%d/graph=%v", p.Commits/1000, p.SinceTag, p.CommitGraph)
}

// BenchmarkLog times the version walk alone: HEAD with every tag as a
// StopAt commit, on an open repository.
func BenchmarkLog(b *testing.B) {
	ctx := context.Background()
	for _, p := range benchHistories() {
		b.Run(benchName(p), func(b *testing.B) {
			dir := gitinfotest.History(b, p)
			repo, err := gitinfo.Open(ctx, dir)
			if err != nil {
				b.Fatal(err)
			}
			defer repo.Close()
			q := versionQuery(b, repo)
			var log *gitinfo.Log
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if log, err = repo.Log(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(log.Commits)), "commits")
			b.ReportMetric(float64(log.Visited), "visited")
		})
	}
}

// BenchmarkVersionWalk times what `release version` pays in gitinfo from a
// cold start: Open, Tags, Log, Close.
func BenchmarkVersionWalk(b *testing.B) {
	ctx := context.Background()
	for _, p := range benchHistories() {
		b.Run(benchName(p), func(b *testing.B) {
			dir := gitinfotest.History(b, p)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				repo, err := gitinfo.Open(ctx, dir)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := repo.Log(ctx, versionQuery(b, repo)); err != nil {
					b.Fatal(err)
				}
				repo.Close()
			}
		})
	}
}

// BenchmarkLogPath is the monorepo walk: the same range limited to one of
// the eight service directories.
func BenchmarkLogPath(b *testing.B) {
	ctx := context.Background()
	p := benchHistories()[0]
	dir := gitinfotest.History(b, p)
	repo, err := gitinfo.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	q := versionQuery(b, repo)
	q.Paths = []string{"svc3"}
	var log *gitinfo.Log
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if log, err = repo.Log(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(log.Commits)), "commits")
}

func versionQuery(b *testing.B, repo *gitinfo.Repo) gitinfo.LogQuery {
	b.Helper()
	tags, err := repo.Tags(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	q := gitinfo.LogQuery{Include: []string{"HEAD"}}
	for _, t := range tags {
		q.StopAt = append(q.StopAt, t.Commit)
	}
	return q
}
