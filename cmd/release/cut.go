package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/release"
)

var _ release.CutGit = (*gitinfo.Repo)(nil)

func (p *program) cutCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "branch", Usage: "the release `BRANCH` HEAD must be on (default: the remote's default branch, else main, else master)"},
		&cli.BoolFlag{Name: "allow-dirty", Usage: "release a worktree with uncommitted changes"},
		&cli.StringFlag{Name: "tagger", Usage: "who tags, `\"NAME <EMAIL>\"` (default: GIT_COMMITTER_NAME/EMAIL, git config user.name/email, the CI's user)"},
		&cli.StringFlag{Name: "git-token", Usage: "a `TOKEN` that may push tags over HTTPS (sent as the basic-auth password)"},
		&cli.StringFlag{Name: "git-user", Usage: "the `USER` sent with --git-token (default: the remote URL's user, else x-access-token; GitLab job tokens: gitlab-ci-token)"},
		&cli.BoolFlag{Name: "no-build", Usage: "tag (and push the tag) only: build no image"},
		&cli.StringFlag{Name: "dotenv", Usage: "write RELEASE_VERSION, RELEASE_TAG, RELEASE_DIGEST, … to `FILE` (GitLab's artifacts:reports:dotenv)"},
	}
	for _, f := range buildFlags() {
		switch f := f.(type) {
		case *cli.BoolFlag:
			switch f.Name {
			case "push":
				f.Usage = "push the tag to the remote, then every image tag (the tag push is the lock between racing pipelines)"
			case "dry-run":
				f.Usage = "print every step it would take (and the docker commands) and change nothing"
			}
		}
		flags = append(flags, f)
	}
	return &cli.Command{
		Name:  "cut",
		Usage: "release HEAD: version, annotated tag, tag push, image build and push",
		Description: `The main-branch pipeline, as steps: check (clean worktree), branch (HEAD
on the release branch; prereleases from any), version (HEAD already tagged
is a re-run; nothing to release exits 0), plan (the build's inputs, before
anything is tagged), tag (annotated, the release notes as its message),
push (exactly that tag: another commit holding it on the remote means
another pipeline won, exit 3), build (as release build), report (stdout,
--json, $GITHUB_OUTPUT, --dotenv). A re-run on the same commit finishes
what is missing.`,
		Flags:  append(append(flags, cutVersionFlags()...), registryFlags()...),
		Action: p.cut,
	}
}

// cutVersionFlags are the version flags without --dev: cut tags releases,
// and a dev version names an untagged build (release build --dev). Left
// out rather than refused, so RELEASE_DEV or a .release.yaml meant for
// build does not stop a cut.
func cutVersionFlags() []cli.Flag {
	var out []cli.Flag
	for _, f := range versionFlags() {
		if f.Names()[0] != "dev" {
			out = append(out, f)
		}
	}
	return out
}

func (p *program) cut(c *cli.Context) error {
	ctx := c.Context
	bopts, err := p.buildOptions(c)
	if err != nil {
		return err
	}
	vopts, err := p.versionOptions(c)
	if err != nil {
		return err
	}
	opts := release.CutOptions{
		Version:    vopts,
		Build:      bopts,
		Branch:     c.String("branch"),
		AllowDirty: c.Bool("allow-dirty"),
		Tagger:     c.String("tagger"),
		Remote:     c.String("remote"),
		Push:       bopts.Push,
		GitToken:   c.String("git-token"),
		GitUser:    c.String("git-user"),
		NoBuild:    c.Bool("no-build"),
		DryRun:     bopts.DryRun,
		// GitHub Actions names the file of a step's outputs.
		GitHubOutput: p.getenv("GITHUB_OUTPUT"),
		DotEnv:       p.abs(c.String("dotenv")),
	}
	if !opts.NoBuild && len(opts.Build.Images) == 0 {
		return usagef("pass --image REPOSITORY (repeatable, one per registry), or --no-build to tag only", "no image repository to build")
	}
	if opts.GitToken != "" {
		p.ui.secrets = append(p.ui.secrets, opts.GitToken)
	}

	repo, err := gitinfo.Open(ctx, p.repoDir(c))
	if err != nil {
		return err
	}
	defer repo.Close()
	p.redactRemotePassword(ctx, repo, opts.Remote)
	docker := p.docker(c)
	deps := release.CutDeps{
		Git:    repo,
		Docker: docker,
		Getenv: p.getenv,
		Now:    p.now,
		Warnf:  p.ui.warnf,
		Logf:   p.ui.logf,
	}
	if !opts.DryRun {
		// A dry run prints its steps as the result, on stdout.
		deps.Step = func(s release.StepReport) { p.ui.logf("%s", stepLine(s)) }
	}
	if opts.Push && !opts.DryRun && !opts.NoBuild {
		reg, err := p.pushRegistry(c)
		if err != nil {
			return err
		}
		deps.Registry = reg
	}

	res, err := release.Cut(ctx, deps, opts)
	if err != nil {
		return usageIfInvalid(err, "cut")
	}
	out := p.stdout
	switch {
	case c.Bool("json"):
		return writeJSON(out, res)
	case opts.DryRun:
		for _, s := range res.Steps {
			fmt.Fprintln(out, stepLine(s))
			if s.Name == "build" && s.Status == release.StepPlanned {
				for _, cmd := range res.Commands {
					fmt.Fprintln(out, dockerLine(res.Env, c.String("docker"), cmd))
				}
			}
		}
	default:
		fmt.Fprintln(out, cutSummary(res))
	}
	return nil
}

// stepLine is a step of cut as a person reads it: on stderr as it is
// taken, on stdout in a dry run.
func stepLine(s release.StepReport) string {
	if s.Status == release.StepSkipped {
		return fmt.Sprintf("%s: skipped: %s", s.Name, s.Detail)
	}
	return fmt.Sprintf("%s: %s", s.Name, s.Detail)
}

// cutSummary is the one line a cut prints on stdout: the action, the
// version, the tag and what was pushed (or built).
func cutSummary(res *release.CutResult) string {
	parts := []string{string(res.Action), res.Version, "(tag " + res.Tag + ")"}
	for _, img := range res.Images {
		switch {
		case img.Digest != "":
			parts = append(parts, img.Repository+"@"+img.Digest)
		case len(img.Tags) > 0 && res.Action != release.ActionNone:
			parts = append(parts, img.Repository+":"+img.Tags[0])
		}
	}
	return strings.Join(parts, " ")
}
