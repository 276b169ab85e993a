package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/releasetool/release/release/dockertest"
)

var update = flag.Bool("update", false, "rewrite the cmp sections of the scripts in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"release": func() { os.Exit(main1()) },
		// The fake docker of release/dockertest: logs argv to
		// $DOCKERTEST_LOG, writes --iidfile/--metadata-file, fails on
		// request (see the package documentation).
		"docker": func() { os.Exit(dockertest.Main()) },
	})
}

// TestScript runs the command-line scripts in testdata/script: what a user
// sees (stdout, stderr, exit codes) for each behaviour of the contract.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			// A fixed identity and clock for every git the scripts run.
			for k, v := range gitEnv(scriptEpoch) {
				e.Setenv(k, v)
			}
			e.Setenv("DOCKER_CONFIG", filepath.Join(e.WorkDir, ".docker"))
			setupRegistry(e)
			return nil
		},
		Cmds: scriptCmds(),
	})
}

// scriptCmds are the commands the scripts may use beyond testscript's own.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"commit":   cmdCommit,
		"gitrev":   cmdGitRev,
		"rc":       cmdExitCode,
		"jsonkeys": cmdJSONKeys,
	}
	for name, f := range registryCmds() {
		cmds[name] = f
	}
	return cmds
}

// scriptEpoch is the time of the first commit a script makes; each further
// commit is one minute later, so history order never depends on the clock.
var scriptEpoch = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func gitEnv(at time.Time) map[string]string {
	date := at.Format(time.RFC3339)
	return map[string]string{
		"GIT_AUTHOR_NAME":     "Ada Lovelace",
		"GIT_AUTHOR_EMAIL":    "ada@example.com",
		"GIT_COMMITTER_NAME":  "Ada Lovelace",
		"GIT_COMMITTER_EMAIL": "ada@example.com",
		"GIT_AUTHOR_DATE":     date,
		"GIT_COMMITTER_DATE":  date,
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_CONFIG_GLOBAL":   os.DevNull,
	}
}

// cmdCommit: commit [-C dir] message [file...]
// Commits the given files (or an empty commit) with the next fixed time, in
// the script's current directory or dir.
func cmdCommit(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! commit")
	}
	dir := ts.MkAbs(".")
	if len(args) >= 2 && args[0] == "-C" {
		dir = ts.MkAbs(args[1])
		args = args[2:]
	}
	if len(args) < 1 {
		ts.Fatalf("usage: commit [-C dir] message [file...]")
	}
	n := 0
	fmt.Sscan(ts.Getenv("COMMITS"), &n)
	ts.Setenv("COMMITS", fmt.Sprint(n+1))
	at := scriptEpoch.Add(time.Duration(n) * time.Minute)
	git := func(a ...string) {
		cmd := exec.Command("git", a...)
		cmd.Dir = dir
		cmd.Env = os.Environ()
		for k, v := range gitEnv(at) {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			ts.Fatalf("git %s: %v\n%s", strings.Join(a, " "), err, out)
		}
	}
	if len(args) > 1 {
		git(append([]string{"add", "--"}, args[1:]...)...)
	}
	git("commit", "-q", "--allow-empty", "-m", args[0])
}

// cmdGitRev: gitrev VAR REV
// Sets $VAR to the full hash `git rev-parse REV^{commit}` prints in the
// script's current directory.
func cmdGitRev(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gitrev VAR REV")
	}
	cmd := exec.Command("git", "rev-parse", "--verify", args[1]+"^{commit}")
	cmd.Dir = ts.MkAbs(".")
	out, err := cmd.Output()
	if err != nil {
		ts.Fatalf("git rev-parse %s: %v", args[1], err)
	}
	ts.Setenv(args[0], strings.TrimSpace(string(out)))
}

// cmdExitCode: rc N program [args...]
// Runs the program like exec and checks that it exits with status N; its
// stdout and stderr are then checked by the usual stdout/stderr commands.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: rc N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("running %s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdJSONKeys: jsonkeys key...
// Checks that the last command's stdout is exactly one JSON object whose
// top-level keys are exactly the given ones.
func cmdJSONKeys(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! jsonkeys")
	}
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile("stdout")))
	var doc map[string]json.RawMessage
	if err := dec.Decode(&doc); err != nil {
		ts.Fatalf("stdout is not a JSON object: %v", err)
	}
	if dec.More() {
		ts.Fatalf("stdout holds more than one JSON document")
	}
	var got []string
	for k := range doc {
		got = append(got, k)
	}
	sort.Strings(got)
	want := append([]string(nil), args...)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		ts.Fatalf("JSON keys:\n  got  %s\n  want %s", strings.Join(got, " "), strings.Join(want, " "))
	}
}
