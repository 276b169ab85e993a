package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/registry"
)

// env is what a run of the program may use from the outside world. Tests
// build their own; main passes the process's.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// getenv reads the environment (CI variables, GITHUB_OUTPUT, …). Flag
	// values from RELEASE_* variables are read by urfave/cli itself.
	getenv func(string) string
	// wd is the working directory: where the repository is searched from
	// when --repo is not given.
	wd  string
	now func() time.Time
	// registryOptions come last in the options of registryClient:
	// tests pass a retry policy that does not wait and transports that
	// reach in-process registries under other host names. main passes none.
	registryOptions []registry.Option
	// stderrIsTerminal says whether stderr is a terminal, the one place
	// progress lines are drawn (SPEC §1). main asks the terminal; tests
	// say yes to see the lines a person would.
	stderrIsTerminal bool
}

// run is the whole program: it parses args, runs one command, prints the
// error if any, and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	u := &ui{stderr: e.stderr}
	p := &program{env: e, ui: u, cfg: &fileConfig{}}
	app := p.newApp()
	err := app.RunContext(ctx, interspersed(app.Commands, args))
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%v: %w", err, context.Canceled)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			u.line("error: ", "interrupted")
		} else {
			u.printError(err)
		}
	}
	return exitCode(err)
}

// program is one run: the outside world, the UI, and the configuration
// file once a command has located the repository.
type program struct {
	env
	ui  *ui
	cfg *fileConfig
}

func (p *program) newApp() *cli.App {
	e := p.env
	cmds := []*cli.Command{
		p.versionCommand(),
		p.changelogCommand(),
		p.buildCommand(),
		p.cutCommand(),
		p.inspectCommand(),
		p.findCommand(),
		p.diffCommand(),
		p.promoteCommand(),
		p.retagCommand(),
	}
	app := &cli.App{
		Name:                 "release",
		Usage:                "version, build, promote and trace Python service images",
		Version:              buildVersion(),
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		Reader:               e.stdin,
		HideHelpCommand:      true,
		EnableBashCompletion: false,
		Commands:             cmds,
		// urfave/cli v2 would call os.Exit from inside the library for
		// errors implementing cli.ExitCoder; run decides exit codes.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{err: err, hint: "run 'release --help' for usage"}
		},
		CommandNotFound: func(c *cli.Context, name string) {},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("run 'release --help' to see the commands", "unknown command %q", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		CustomAppHelpTemplate: appHelpTemplate,
	}
	for _, c := range app.Commands {
		p.prepareCommand(c)
	}
	return app
}

// prepareCommand wires the conventions every command shares: usage errors
// exit 2 with a hint, every flag also reads RELEASE_<FLAG>, and the
// repository's .release.yaml fills the flags neither given nor in the
// environment.
func (p *program) prepareCommand(c *cli.Command) {
	c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return &usageError{err: err, hint: fmt.Sprintf("run 'release %s --help' for usage", c.Name)}
	}
	c.Flags = append(c.Flags, commonFlags()...)
	for _, f := range c.Flags {
		if !commandLineOnly(c.Name, f.Names()[0]) {
			setEnvVar(f)
		}
	}
	before := c.Before
	c.Before = func(ctx *cli.Context) error {
		cfg, err := loadConfig(p.repoDir(ctx), flagNames(ctx.App.Commands))
		if err != nil {
			return err
		}
		p.cfg = cfg
		if err := cfg.apply(ctx); err != nil {
			return err
		}
		// After the file: it may set them too.
		p.ui.quiet = ctx.Bool("quiet")
		p.ui.verbose = ctx.Bool("verbose")
		if ctx.Args().Present() && c.ArgsUsage == "" {
			return usagef(fmt.Sprintf("run 'release %s --help' for usage", c.Name), "unexpected argument %q", ctx.Args().First())
		}
		if before != nil {
			return before(ctx)
		}
		return nil
	}
	for _, sub := range c.Subcommands {
		p.prepareCommand(sub)
	}
}

// repoDir is where the repository is searched from: --repo, else the
// working directory.
func (p *program) repoDir(c *cli.Context) string {
	if d := c.String("repo"); d != "" {
		return p.abs(d)
	}
	return p.wd
}

// abs resolves a path given on the command line against the working
// directory of the run.
func (p *program) abs(path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(p.wd, path)
}

// commonFlags are accepted by every command.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "repo", Usage: "the git repository `DIR` (default: found from the current directory upward)"},
		&cli.BoolFlag{Name: "json", Usage: "print one JSON document on stdout"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no logs or warnings on stderr"},
		&cli.BoolFlag{Name: "verbose", Usage: "print debug logs on stderr"},
	}
}

// commandLineOnly reports the flags of a command that take no value from
// RELEASE_<FLAG> or .release.yaml, because another command gives the name
// another meaning: build's --platform is the list of platforms to build
// (a natural key of .release.yaml), while inspect's and diff's selects the
// one platform to describe, and must not silently become the last of
// build's list.
func commandLineOnly(command, flag string) bool {
	return flag == "platform" && (command == "inspect" || command == "diff")
}

// envVarName is the environment variable that sets a flag:
// RELEASE_<FLAG>, upper case, '-' → '_'.
func envVarName(flag string) string {
	return "RELEASE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func setEnvVar(f cli.Flag) {
	name := f.Names()[0]
	vars := []string{envVarName(name)}
	switch f := f.(type) {
	case *cli.StringFlag:
		f.EnvVars = vars
	case *cli.BoolFlag:
		f.EnvVars = vars
	case *cli.IntFlag:
		f.EnvVars = vars
	case *cli.StringSliceFlag:
		f.EnvVars = vars
	case *cli.DurationFlag:
		f.EnvVars = vars
	case *kvFlag:
		f.EnvVars = vars
	default:
		panic(fmt.Sprintf("flag %q: type %T has no environment wiring", name, f))
	}
}

// buildVersion is `release --version`: the module version and the VCS
// revision the binary was built from, as recorded in the build info.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if settings["vcs.modified"] == "true" {
			v += "-dirty"
		}
	}
	return v + " " + bi.GoVersion
}

// flagNames lists every flag name any command of the app accepts; the
// configuration file may set any of them.
func flagNames(cmds []*cli.Command) map[string]bool {
	names := map[string]bool{}
	var walk func([]*cli.Command)
	walk = func(cs []*cli.Command) {
		for _, c := range cs {
			for _, f := range c.Flags {
				names[f.Names()[0]] = true
			}
			walk(c.Subcommands)
		}
	}
	walk(cmds)
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func processEnv() env {
	wd, _ := os.Getwd()
	return env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		wd:     wd,
		now:    time.Now,

		stderrIsTerminal: isTerminal(os.Stderr),
	}
}

const appHelpTemplate = `{{.Name}} - {{.Usage}}

Usage:
   {{.HelpName}} COMMAND [options] [arguments]

Commands:{{range .VisibleCommands}}
   {{join .Names ", "}}{{"\t"}}{{.Usage}}{{end}}

Every flag can also be set by an environment variable RELEASE_<FLAG> (upper
case, '-' becomes '_') or by a key of the same name in .release.yaml at the
repository root; a flag beats the environment, which beats the file.

Exit codes:
   0 success (including "nothing to release"), 1 failure, 2 usage error,
   3 conflict (a version or immutable tag already taken), 4 history
   insufficient (shallow clone or missing tags), 130 interrupted

Run '{{.HelpName}} COMMAND --help' for the options of a command.
{{if .Version}}
Version: {{.Version}}
{{end}}`
