package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/release"
)

func (p *program) promoteCommand() *cli.Command {
	return &cli.Command{
		Name:      "promote",
		Usage:     "copy an image by digest to another repository, with its signatures and the tags of the tag policy",
		ArgsUsage: "SRC DST",
		Description: `SRC is a tag or digest reference (host/repo:1.2.3, host/repo@sha256:…);
DST a repository (host/repo), or host/repo:TAG to write that one tag only.
The image moves byte for byte (an index keeps every platform and
attestation manifest): missing blobs (mounted inside one registry), child
manifests, the index, then the exact tag, then sha-<12 hex> and the
floating tags (X.Y, X, latest) computed against DST's own version tags.
Cosign signatures and OCI referrers travel too.

The version is SRC's tag when it is one (1.2.3, v1.2.3, 1.2.0rc1), else
the org.opencontainers.image.version label. An image without a revision
(label, annotation or BuildKit provenance) is refused. An exact tag at DST
that names other bytes is a conflict (exit 3); nothing is written.

The report says what each tag named before and names now. A promotion
that has already happened writes nothing.`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "allow-unlabeled", Usage: "promote an image that names no revision"},
			&cli.BoolFlag{Name: "force", Usage: "move an exact tag that names another image"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan (what would be copied, which tags change) and write nothing"},
			&cli.BoolFlag{Name: "no-signatures", Usage: "leave cosign signatures, attestations, SBOMs and OCI referrers behind"},
			&cli.StringFlag{Name: "latest", Value: "auto", Usage: "move latest: `auto` (highest stable only), always or never"},
			&cli.BoolFlag{Name: "no-sha-tag", Usage: "do not tag sha-<12 hex>"},
			&cli.StringFlag{Name: "tag-style", Value: "semver", Usage: "spell the exact tag as `semver` (1.2.0-rc.1) or pep440 (1.2.0rc1)"},
			&cli.BoolFlag{Name: "channel-tags", Usage: "a prerelease also gets <channel> and X.Y-<channel> (rc, 2.1-rc)"},
			&cli.IntFlag{Name: "jobs", Value: 8, Usage: "`N` blob transfers and checks in flight"},
		}, registryFlags()...),
		Action: p.promote,
	}
}

func (p *program) promote(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("run 'release promote --help' for usage", "promote takes SRC and DST, got %d arguments", c.NArg())
	}
	src, dst := c.Args().Get(0), c.Args().Get(1)
	if err := checkReference(src, false); err != nil {
		return usageFrom(fmt.Errorf("SRC: %w", err), "promote")
	}
	if err := checkReference(dst, true); err != nil {
		return usageFrom(fmt.Errorf("DST: %w", err), "promote")
	}
	latest, err := release.ParseLatestMode(c.String("latest"))
	if err != nil {
		return usageFrom(err, "promote")
	}
	style, err := release.ParseTagStyle(c.String("tag-style"))
	if err != nil {
		return usageFrom(err, "promote")
	}
	jobs := c.Int("jobs")
	if jobs < 1 {
		return usagef("run 'release promote --help' for usage", "--jobs %d: want 1 or more", jobs)
	}
	asJSON := c.Bool("json")
	dryRun := c.Bool("dry-run")

	opts := []registry.Option{registry.WithJobs(jobs)}
	var meter *transferMeter
	if line := p.progressLine(c); line != nil && !dryRun {
		meter = &transferMeter{line: line, now: p.now}
		opts = append(opts, registry.WithProgress(meter.Update))
	}
	client, err := p.registryClient(c, opts...)
	if err != nil {
		return err
	}
	res, err := release.Promote(c.Context, release.PromoteDeps{
		Registry: client,
		Warnf:    p.ui.warnf,
		Logf:     p.ui.debugf,
	}, release.PromoteOptions{
		Source:         src,
		Destination:    dst,
		AllowUnlabeled: c.Bool("allow-unlabeled"),
		Force:          c.Bool("force"),
		DryRun:         dryRun,
		NoSignatures:   c.Bool("no-signatures"),
		Jobs:           jobs,
		Tags: release.TagOptions{
			Latest:      latest,
			NoSHATag:    c.Bool("no-sha-tag"),
			Style:       style,
			ChannelTags: c.Bool("channel-tags"),
		},
	})
	if meter != nil {
		meter.Done()
	}
	if err != nil {
		return promoteError(err, "promote")
	}
	if asJSON {
		return writeJSON(p.stdout, res)
	}
	writePromote(p.stdout, res)
	return nil
}

// checkReference rejects what no registry could take before any request:
// a malformed reference, and for a destination a digest (the image keeps
// its own) or an invalid tag.
func checkReference(ref string, destination bool) error {
	if _, err := registry.Repository(ref); err != nil {
		return err
	}
	if !destination {
		return nil
	}
	left, _, hasDigest := strings.Cut(ref, "@")
	if hasDigest {
		return release.WithHint(fmt.Errorf("%q names a digest: %w", ref, release.ErrInvalid),
			"DST is a repository (host/repo) or repository:tag; the image keeps its digest")
	}
	if i := strings.LastIndexByte(left, ':'); i > strings.LastIndexByte(left, '/') {
		return release.ValidTag(left[i+1:])
	}
	return nil
}

// promoteError makes a bad reference a usage error (Promote itself gives a
// missing source its hint).
func promoteError(err error, command string) error {
	if errors.Is(err, registry.ErrInvalidReference) {
		return usageFrom(err, command)
	}
	return err
}

// writePromote prints a promotion for a person: what moved where, each
// tag with what it named before, and what travelled.
func writePromote(w io.Writer, res *release.PromoteResult) {
	if res.DryRun {
		fmt.Fprintf(w, "dry run: nothing was written; promoting %s to %s would do this\n", res.Source, res.Destination)
	} else {
		fmt.Fprintf(w, "promoted %s to %s\n", res.Source, res.Destination)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "digest\t%s\n", res.Digest)
	fmt.Fprintf(tw, "version\t%s\n", orDash(res.Version))
	fmt.Fprintf(tw, "revision\t%s\n", orDash(res.Revision))
	tw.Flush()
	writeTagTable(w, res.Tags, res.Previous)
	copied := fmt.Sprintf("%d copied (%s", res.BlobsCopied, formatBytes(res.BytesCopied))
	if res.BlobsMounted > 0 {
		copied += fmt.Sprintf(", %d mounted", res.BlobsMounted)
	}
	copied += fmt.Sprintf("), %d already there", res.BlobsSkipped)
	fmt.Fprintf(w, "blobs: %s\n", copied)
	if len(res.Attachments) > 0 {
		counts := map[registry.Action]int{}
		for _, a := range res.Attachments {
			counts[a.Action]++
		}
		var parts []string
		for _, a := range []registry.Action{registry.ActionCreated, registry.ActionMoved, registry.ActionUnchanged} {
			if counts[a] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
			}
		}
		fmt.Fprintf(w, "signatures and referrers: %s\n", strings.Join(parts, ", "))
	}
}

// writeTagTable prints each tag, its action, and for a moved tag what it
// named before.
func writeTagTable(w io.Writer, tags []release.TagAction, previous []release.PreviousImage) {
	before := map[string]release.PreviousImage{}
	for _, prev := range previous {
		for _, t := range prev.Tags {
			before[t] = prev
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tACTION\tBEFORE")
	for _, t := range tags {
		was := "-"
		if prev, ok := before[t.Tag]; ok {
			was = describePrevious(prev)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Tag, t.Action, was)
	}
	tw.Flush()
}

// describePrevious is "1.4.0 (revision 0123456789ab, sha256:…12)".
func describePrevious(prev release.PreviousImage) string {
	var parts []string
	if prev.Revision != "" {
		rev := prev.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		parts = append(parts, "revision "+rev)
	}
	parts = append(parts, shortDigest(prev.Digest))
	return fmt.Sprintf("%s (%s)", orDash(prev.Version), strings.Join(parts, ", "))
}
