package release

import (
	"context"
	"fmt"
	"testing"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// BenchmarkNextVersion times `release version`'s work after the repository
// is open (tags, status, the walk, the policy) on the generated history the
// gitinfo benchmarks use: 1,000 release tags, the last one 100 commits
// behind HEAD, feature branches merged every 10 commits. The cost must
// follow the commits since the last tag, not the size of the history.
func BenchmarkNextVersion(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{100_000, 300_000} {
		b.Run(fmt.Sprintf("commits=%dk", n/1000), func(b *testing.B) {
			dir := gitinfotest.History(b, gitinfotest.HistoryParams{
				Commits: n, Tags: 1000, SinceTag: 100, MergeEvery: 10, BranchLength: 3,
			})
			repo, err := gitinfo.Open(ctx, dir)
			if err != nil {
				b.Fatal(err)
			}
			defer repo.Close()
			var res *Result
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res, err = NextVersion(ctx, repo, DefaultOptions()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Commits), "commits")
		})
	}
}

// BenchmarkDerive times the pure policy on 1,000 tags and 100 commits.
func BenchmarkDerive(b *testing.B) {
	var in Input
	in.Head = hash("c1")
	var msgs []string
	for i := 0; i < 100; i++ {
		msgs = append(msgs, []string{"feat(api): add x", "fix: y\n\nBody.\n\nRefs: #1", "chore: z", "Update docs"}[i%4])
	}
	in.Commits = history(msgs...)
	for i := 0; i < 1000; i++ {
		in.Tags = append(in.Tags, gitinfo.Tag{Name: fmt.Sprintf("v1.%d.%d", i/10, i%10), Commit: hash(fmt.Sprint("t", i))})
	}
	in.Reached = []string{hash("t999")}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Derive(in, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCommit(b *testing.B) {
	msg := "feat(api)!: drop the v1 endpoints\r\n\r\nThe v1 API was deprecated a year ago.\r\nClients must move to v2.\r\n\r\nBREAKING CHANGE: /v1 is gone\r\nRefs: #123\r\nSigned-off-by: A <a@example.com>\r\n"
	for i := 0; i < b.N; i++ {
		ParseCommit(msg)
	}
}
