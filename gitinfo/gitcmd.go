package gitinfo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// errNoGit means the Repo was opened without a git binary.
var errNoGit = errors.New("git binary not available")

// gitEnvDrop are variables that would point a git subprocess at another
// repository than the one opened (they are set inside git hooks, for
// instance).
var gitEnvDrop = []string{
	"GIT_DIR=", "GIT_WORK_TREE=", "GIT_INDEX_FILE=", "GIT_OBJECT_DIRECTORY=",
	"GIT_ALTERNATE_OBJECT_DIRECTORIES=", "GIT_COMMON_DIR=", "GIT_NAMESPACE=",
	"GIT_CEILING_DIRECTORIES=", "GIT_DISCOVERY_ACROSS_FILESYSTEM=",
}

// runGit runs the git binary in the worktree root with the caller's
// environment (so credential helpers and CI configuration apply), minus the
// variables that would redirect it, plus extra. It returns stdout; on
// failure the error carries git's stderr with URL credentials and the given
// secrets redacted.
func (r *Repo) runGit(ctx context.Context, extra []string, secrets []string, args ...string) ([]byte, error) {
	if r.git == "" {
		return nil, errNoGit
	}
	cmd := exec.CommandContext(ctx, r.git, args...)
	cmd.Dir = r.root
	env := make([]string, 0, len(os.Environ())+len(extra)+2)
	for _, kv := range os.Environ() {
		drop := false
		for _, p := range gitEnvDrop {
			if strings.HasPrefix(kv, p) {
				drop = true
				break
			}
		}
		if !drop {
			env = append(env, kv)
		}
	}
	// No prompts (a pipeline has no terminal), and no lock taken just to
	// refresh the index while only reading.
	env = append(env, "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
	cmd.Env = append(env, extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := redact(strings.TrimSpace(lastLines(stderr.String(), 5)), secrets...)
		name := "git " + redact(strings.Join(args, " "), secrets...)
		if msg == "" {
			return nil, fmt.Errorf("running %s: %w", name, err)
		}
		return nil, fmt.Errorf("running %s: %s: %w", name, msg, err)
	}
	return stdout.Bytes(), nil
}

// lastLines keeps the last n non-empty lines of s, joined on one line: the
// end of git's stderr says what went wrong, the start is progress.
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
