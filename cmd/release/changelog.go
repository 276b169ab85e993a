package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/Masterminds/semver/v3"
	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/release"
)

func (p *program) changelogCommand() *cli.Command {
	return &cli.Command{
		Name:  "changelog",
		Usage: "print the Markdown notes of a release",
		Description: `The notes of the commits reachable from --to (default HEAD) and not from
--from (default: the previous release tag of --to), in sections Breaking
changes, Features, Fixes, Performance, Reverts and Other. --prepend FILE
adds them as a "## <version> - <date>" section at the top of a
CHANGELOG.md (below a leading "## Unreleased" section); the version is
--version, else the release tag on --to, else the version HEAD gets; the
date is the commit date of --to (UTC), so the file is reproducible.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "start after `TAG` (default: the previous release tag)"},
			&cli.StringFlag{Name: "to", Usage: "end at `REF` (default: HEAD)"},
			&cli.StringFlag{Name: "prepend", Usage: "add the notes as a new section at the top of `FILE`"},
			&cli.StringFlag{Name: "version", Usage: "the `VERSION` of the --prepend heading (default: derived)"},
			&cli.StringFlag{Name: "tag-prefix", Value: "v", Usage: "release tags are `PREFIX`<semver>"},
		}, versionFlags()...),
		Action: p.changelog,
	}
}

// changelogJSON is what `release changelog --json` prints.
type changelogJSON struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	Commit   string        `json:"commit"`
	Commits  int           `json:"commits"`
	Sections []sectionJSON `json:"sections"`
	Markdown string        `json:"markdown"`
}

type sectionJSON struct {
	Title   string      `json:"title"`
	Entries []entryJSON `json:"entries"`
}

type entryJSON struct {
	Commit  string `json:"commit"`
	Scope   string `json:"scope"`
	Subject string `json:"subject"`
}

func notesJSON(n release.Notes) []sectionJSON {
	out := []sectionJSON{}
	for _, s := range n.Sections {
		js := sectionJSON{Title: s.Title, Entries: []entryJSON{}}
		for _, e := range s.Entries {
			js.Entries = append(js.Entries, entryJSON{Commit: e.Commit, Scope: e.Scope, Subject: e.Subject})
		}
		out = append(out, js)
	}
	return out
}

func (p *program) changelog(c *cli.Context) error {
	ctx := c.Context
	opts, err := p.versionOptions(c)
	if err != nil {
		return err
	}
	repo, err := gitinfo.Open(ctx, p.repoDir(c))
	if err != nil {
		return err
	}
	defer repo.Close()
	rng, err := release.Changelog(ctx, repo, c.String("from"), c.String("to"), opts)
	if err != nil {
		return usageIfInvalid(err, "changelog")
	}
	md := rng.Notes.Markdown()
	if file := c.String("prepend"); file != "" {
		version, err := p.changelogVersion(c, repo, rng, opts)
		if err != nil {
			return err
		}
		cm, err := repo.Commit(ctx, rng.ToCommit)
		if err != nil {
			return fmt.Errorf("reading commit %s: %w", rng.ToCommit, err)
		}
		date := cm.Committer.When.UTC().Format("2006-01-02")
		if err := prependFile(p.abs(file), version, date, rng.Notes); err != nil {
			return err
		}
		p.ui.logf("added %s to %s", version, file)
	}
	if c.Bool("json") {
		return writeJSON(p.stdout, changelogJSON{
			From: rng.From, To: rng.To, Commit: rng.ToCommit, Commits: rng.Commits,
			Sections: notesJSON(rng.Notes), Markdown: md,
		})
	}
	fmt.Fprint(p.stdout, md)
	return nil
}

// changelogVersion is the version of the --prepend heading: --version, the
// release tag on --to, or the version HEAD gets when --to is HEAD.
func (p *program) changelogVersion(c *cli.Context, repo *gitinfo.Repo, rng *release.ChangelogRange, opts release.Options) (string, error) {
	if v := c.String("version"); v != "" {
		return v, nil
	}
	head, err := repo.Head(c.Context)
	if err != nil {
		return "", err // gitinfo says "reading HEAD"
	}
	if rng.ToCommit == head.Commit {
		res, err := release.NextVersion(c.Context, repo, opts)
		if err != nil {
			return "", usageIfInvalid(err, "changelog")
		}
		return res.Version, nil
	}
	tags, err := repo.Tags(c.Context)
	if err != nil {
		return "", fmt.Errorf("reading tags: %w", err)
	}
	var best *semver.Version
	for _, t := range tags {
		if t.Commit != rng.ToCommit {
			continue
		}
		if v, err := release.ParseTag(opts.TagPrefix, t.Name); err == nil && (best == nil || v.GreaterThan(best)) {
			best = v
		}
	}
	if best == nil {
		return "", usagef("pass --version for the heading", "%s carries no release tag and is not HEAD: the heading's version is unknown", rng.To)
	}
	return best.String(), nil
}

// prependFile adds the section to file (a missing file starts empty) and
// replaces it atomically, so an interrupted run never leaves half a file.
func prependFile(file, version, date string, notes release.Notes) error {
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading changelog: %w", err)
	}
	if len(old) == 0 {
		old = []byte("# Changelog\n")
	}
	updated, err := release.Prepend(old, version, date, notes)
	if err != nil {
		return err
	}
	if bytes.Equal(old, updated) {
		return nil
	}
	return writeFileAtomic(file, updated)
}

// writeFileAtomic writes data next to file and renames it into place,
// keeping the file's mode.
func writeFileAtomic(file string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}
