package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed lets a command's flags follow its arguments, as in
// `release find REPO --commit SHA` and `release inspect IMAGE --json`:
// urfave/cli v2 (like Go's flag package) stops reading flags at the first
// argument, so the command's flags are moved in front of its arguments,
// in their order. A flag that takes a value keeps the token after it
// ("--commit SHA"); "--" ends the flags, and what follows it is left as it
// is. Arguments before the command name, and commands urfave/cli does not
// know, are not touched.
func interspersed(cmds []*cli.Command, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// The command is the first argument that is not a flag; the app's own
	// flags (--help, --version) take no value.
	at := -1
	for i := 1; i < len(args); i++ {
		if !isFlagToken(args[i]) {
			at = i
			break
		}
	}
	if at < 0 {
		return args
	}
	cmd := findCommand(cmds, args[at])
	if cmd == nil || len(cmd.Subcommands) > 0 {
		return args
	}
	values := map[string]bool{}
	for _, f := range cmd.Flags {
		takes := true
		if df, ok := f.(cli.DocGenerationFlag); ok {
			takes = df.TakesValue()
		}
		for _, n := range f.Names() {
			values[n] = takes
		}
	}
	out := append([]string{}, args[:at+1]...)
	var positional []string
	rest := args[at+1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i:]...)
			break
		}
		if !isFlagToken(a) {
			positional = append(positional, a)
			continue
		}
		out = append(out, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if values[name] && i+1 < len(rest) {
			out = append(out, rest[i+1])
			i++
		}
	}
	return append(out, positional...)
}

// isFlagToken reports whether a command-line token is a flag ("-x",
// "--name", "--name=value"); "-" alone is an argument (stdin).
func isFlagToken(a string) bool { return len(a) > 1 && a[0] == '-' }

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		for _, n := range c.Names() {
			if n == name {
				return c
			}
		}
	}
	return nil
}
