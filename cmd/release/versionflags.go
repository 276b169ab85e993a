package main

import (
	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/release"
)

// versionFlags are the flags of the version policy (SPEC §2) that every
// command deriving a version accepts; --tag-prefix is declared by each
// command, because some use it without deriving.
func versionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "initial", Value: "0.1.0", Usage: "the `VERSION` when no release tag exists"},
		&cli.StringFlag{Name: "pre", Usage: "make a prerelease -`LABEL`.N (e.g. rc)"},
		&cli.BoolFlag{Name: "dev", Usage: "make a development version X.Y.Z-dev.N+g<hash>"},
		&cli.StringFlag{Name: "release-as", Usage: "force `VERSION` (greater than the last release)"},
		&cli.StringSliceFlag{Name: "path", Usage: "count only commits changing files under `DIR` (repeatable)"},
	}
}

// versionOptions reads the version flags and the rules of .release.yaml.
func (p *program) versionOptions(c *cli.Context) (release.Options, error) {
	opts := release.DefaultOptions()
	opts.TagPrefix = c.String("tag-prefix")
	opts.Initial = c.String("initial")
	opts.Pre = c.String("pre")
	opts.Dev = c.Bool("dev")
	opts.ReleaseAs = c.String("release-as")
	opts.Paths = c.StringSlice("path")
	rules, err := p.rules()
	if err != nil {
		return release.Options{}, err
	}
	opts.Rules = rules
	return opts, nil
}

// rules are the commit rules of .release.yaml, or the default ones.
func (p *program) rules() (release.Rules, error) {
	if len(p.cfg.rules) == 0 {
		return release.DefaultRules(), nil
	}
	rules, err := release.NewRules(p.cfg.rules)
	if err != nil {
		return release.Rules{}, &usageError{err: err, hint: "fix the rules of " + configFileName}
	}
	return rules, nil
}
