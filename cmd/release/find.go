package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/release"
)

func (p *program) findCommand() *cli.Command {
	return &cli.Command{
		Name:      "find",
		Usage:     "list the tags of a repository whose image comes from a commit",
		ArgsUsage: "REPO --commit SHA",
		Description: `Every tag of REPO (host/path) whose image was built from the commit (7 to
40 hex digits), with its digest and version. Tags are resolved to digests
--jobs at a time; each distinct image is read once (its revision label,
annotation or provenance, as release inspect reads it), unless a
sha-<12 hex> tag on it (written by release build) already says which
commit it comes from. A prefix that matches images of two commits is an
error naming both.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "commit", Usage: "the commit `SHA` (7 to 40 hex digits)"},
			&cli.IntFlag{Name: "jobs", Value: 8, Usage: "`N` registry requests in flight"},
		}, registryFlags()...),
		Action: p.find,
	}
}

func (p *program) find(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("run 'release find --help' for usage", "find takes one repository, got %d arguments", c.NArg())
	}
	if c.String("commit") == "" {
		return usagef("pass --commit SHA, e.g. --commit $(git rev-parse HEAD)", "find needs --commit")
	}
	if c.Int("jobs") < 1 {
		return usagef("pass --jobs 1 or more", "--jobs %d: want at least 1", c.Int("jobs"))
	}
	client, err := p.registryClient(c)
	if err != nil {
		return err
	}
	opts := release.FindOptions{Jobs: c.Int("jobs")}
	bar := p.progressLine(c)
	if bar != nil {
		opts.Progress = func(pr release.FindProgress) {
			what := "resolving tags"
			if pr.Phase == "images" {
				what = "reading images"
			}
			bar(fmt.Sprintf("%s %d/%d", what, pr.Done, pr.Total))
		}
	}
	repo := c.Args().First()
	res, err := release.Find(c.Context, client, repo, c.String("commit"), opts)
	if bar != nil {
		bar("")
	}
	if err != nil {
		return inspectError(err, "find")
	}
	if len(res.Tags) == 0 {
		p.ui.logf("no tag of %s comes from commit %s (%d tags, %d images, %d read)",
			res.Repository, res.Commit, res.TagsScanned, res.Digests, res.Lookups)
	} else {
		p.ui.logf("%d of %d tags come from %s (%d images, %d read)",
			len(res.Tags), res.TagsScanned, res.Revision, res.Digests, res.Lookups)
	}
	if c.Bool("json") {
		return writeJSON(p.stdout, res)
	}
	writeFound(p.stdout, res)
	return nil
}

// writeFound prints one line per tag: tag, digest, version, and the
// platforms when only some of an index's came from the commit.
func writeFound(w io.Writer, res *release.FindResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range res.Tags {
		line := fmt.Sprintf("%s\t%s\t%s", t.Tag, t.Digest, orDash(t.Version))
		if len(t.Platforms) > 0 {
			line += "\t" + strings.Join(t.Platforms, ",") + " only"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}
