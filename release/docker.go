package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/releasetool/release/gitinfo"
)

// Errors of the docker binary that get their own message and hint.
var (
	// ErrDockerMissing means the docker binary was not found.
	ErrDockerMissing = errors.New("docker binary not found")
	// ErrDaemonUnreachable means the docker CLI runs but cannot reach a
	// daemon (none running, wrong DOCKER_HOST, no permission on the socket).
	ErrDaemonUnreachable = errors.New("docker daemon not reachable")
)

// DockerError is a docker command that ran and failed: its exit status and
// the tail of what it wrote on stderr, secrets redacted.
type DockerError struct {
	// Command is the docker subcommand ("build", "buildx build", "push").
	Command string
	// ExitCode is docker's exit status.
	ExitCode int
	// Stderr is the last lines docker wrote on stderr.
	Stderr string
}

func (e *DockerError) Error() string {
	msg := fmt.Sprintf("docker %s: exit status %d", e.Command, e.ExitCode)
	if e.Stderr != "" {
		msg += "\n" + e.Stderr
	}
	return msg
}

// stderrTail bounds what is kept of docker's stderr for the error: the end of
// a build log is where the cause is.
const (
	stderrTailBytes = 64 << 10
	stderrTailLines = 25
)

// DockerCLI runs the docker binary: the only place in the module that starts
// a process. Arguments are passed as a list (no shell).
type DockerCLI struct {
	// Path is the docker binary, a name looked up in PATH or a path.
	// Default "docker".
	Path string
	// Env is the environment the child starts from (DOCKER_HOST,
	// DOCKER_CONFIG, BUILDX_* … pass through). Nil means this process's.
	Env []string
	// Output receives docker's own output (progress, build logs), stdout
	// and stderr both, redacted line by line. Nil discards it; the tail of
	// stderr is kept for errors either way.
	Output io.Writer
	// Redact lists values (tokens, passwords) that must not appear in
	// Output or errors, on top of URL credentials, which are always masked.
	Redact []string
	// WaitDelay bounds how long a cancelled docker may take to exit after
	// the interrupt before it is killed. Default 10s.
	WaitDelay time.Duration
	// PluginDirs are the system directories searched for the buildx
	// plugin, after the user's. Nil means the docker CLI's Linux defaults.
	PluginDirs []string
}

// Run runs docker with args. extraEnv is added to the environment
// (SOURCE_DATE_EPOCH for builders that read it from there).
func (d DockerCLI) Run(ctx context.Context, args []string, extraEnv []string) error {
	path, err := d.lookPath()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	env := d.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(append([]string(nil), env...), extraEnv...)
	// An interrupt lets docker cancel the build and tidy up; the kill
	// after WaitDelay is for a docker that does not listen.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = d.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 10 * time.Second
	}
	out := &redactingWriter{w: d.Output, redact: d.redact}
	tail := &tailBuffer{max: stderrTailBytes}
	cmd.Stderr = tail
	if d.Output != nil {
		cmd.Stdout = out
		cmd.Stderr = io.MultiWriter(out, tail)
	} // else docker's stdout goes to the null device: no pipe to drain
	err = cmd.Run()
	out.Flush()
	name := subcommand(args)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("docker %s: %w", name, ctx.Err())
	}
	stderr := d.redact(tail.Tail(stderrTailLines))
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("docker %s: %w", name, err)
	}
	if daemonDown(tail.String()) {
		return WithHint(fmt.Errorf("%w: %s", ErrDaemonUnreachable, firstDaemonLine(stderr)),
			"start the docker daemon, or point DOCKER_HOST (or the docker context) at a running one")
	}
	return &DockerError{Command: name, ExitCode: exit.ExitCode(), Stderr: stderr}
}

// Detect resolves --builder auto: buildx when the buildx CLI plugin is
// installed, else the classic builder. It does not need the daemon.
//
// The plugin is first looked for where the docker CLI looks for it
// (cliPluginsExtraDirs of config.json, $DOCKER_CONFIG/cli-plugins, the
// system plugin directories): finding it there costs no process, where
// `docker buildx version` costs the CLI's and the plugin's start-up (about
// 100 ms, half of a cached build). When it is not there, the answer comes
// from `docker buildx version` succeeding, which also covers set-ups this
// search does not know.
func (d DockerCLI) Detect(ctx context.Context) (Builder, error) {
	path, err := d.lookPath()
	if err != nil {
		return "", err
	}
	if d.findBuildxPlugin() {
		return BuilderBuildx, nil
	}
	cmd := exec.CommandContext(ctx, path, "buildx", "version")
	cmd.Env = d.Env
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("detecting the docker builder: %w", ctx.Err())
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return BuilderClassic, nil
		}
		return "", fmt.Errorf("detecting the docker builder: %w", err)
	}
	return BuilderBuildx, nil
}

// systemPluginDirs are the docker CLI's plugin directories on Linux.
var systemPluginDirs = []string{
	"/usr/local/lib/docker/cli-plugins",
	"/usr/local/libexec/docker/cli-plugins",
	"/usr/lib/docker/cli-plugins",
	"/usr/libexec/docker/cli-plugins",
}

// findBuildxPlugin reports whether an executable docker-buildx sits in one
// of the directories the docker CLI searches for plugins.
func (d DockerCLI) findBuildxPlugin() bool {
	configDir := d.getenv("DOCKER_CONFIG")
	if home := d.getenv("HOME"); configDir == "" && home != "" {
		configDir = filepath.Join(home, ".docker")
	}
	var dirs []string
	if configDir != "" {
		if b, err := os.ReadFile(filepath.Join(configDir, "config.json")); err == nil {
			var cfg struct {
				Extra []string `json:"cliPluginsExtraDirs"`
			}
			if json.Unmarshal(b, &cfg) == nil {
				dirs = append(dirs, cfg.Extra...)
			}
		}
		dirs = append(dirs, filepath.Join(configDir, "cli-plugins"))
	}
	if d.PluginDirs != nil {
		dirs = append(dirs, d.PluginDirs...)
	} else {
		dirs = append(dirs, systemPluginDirs...)
	}
	for _, dir := range dirs {
		fi, err := os.Stat(filepath.Join(dir, "docker-buildx"))
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return true
		}
	}
	return false
}

// getenv reads the child's environment (Env, else this process's).
func (d DockerCLI) getenv(key string) string {
	if d.Env == nil {
		return os.Getenv(key)
	}
	v := ""
	for _, kv := range d.Env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val // the last one wins, as for exec
		}
	}
	return v
}

func (d DockerCLI) lookPath() (string, error) {
	name := d.Path
	if name == "" {
		name = "docker"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", WithHint(fmt.Errorf("%w: %s", ErrDockerMissing, name),
			"install the docker CLI, or pass --docker PATH")
	}
	return path, nil
}

func (d DockerCLI) redact(s string) string {
	s = gitinfo.RedactURL(s)
	for _, secret := range d.Redact {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "xxxxx")
		}
	}
	return s
}

// subcommand names the docker command for messages: "buildx build",
// "build", "push".
func subcommand(args []string) string {
	if len(args) == 0 {
		return ""
	}
	if args[0] == "buildx" && len(args) > 1 {
		return "buildx " + args[1]
	}
	return args[0]
}

// daemonMarkers are what the docker CLI and buildx print when no daemon
// answers: the unix socket case, and TCP/ssh hosts.
var daemonMarkers = []string{
	"Cannot connect to the Docker daemon",
	"error during connect",
	"Is the docker daemon running",
	"permission denied while trying to connect to the Docker daemon",
	// docker CLI 28 and buildx word it so.
	"failed to connect to the docker API",
}

func daemonDown(stderr string) bool {
	for _, m := range daemonMarkers {
		if strings.Contains(stderr, m) {
			return true
		}
	}
	return false
}

func firstDaemonLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if daemonDown(l) {
			l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "ERROR:"))
			return strings.TrimSuffix(l, ".")
		}
	}
	return strings.TrimSpace(stderr)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// Tail returns the last n non-empty lines.
func (t *tailBuffer) Tail(n int) string {
	lines := strings.Split(strings.ReplaceAll(t.String(), "\r\n", "\n"), "\n")
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		l := strings.TrimRight(lines[i], " \t\r")
		if l == "" {
			continue
		}
		if len(l) > 500 {
			l = l[:500] + "…"
		}
		keep = append(keep, l)
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	return strings.Join(keep, "\n")
}

// redactingWriter passes whole lines through redact to w (nil: discard).
// stdout and stderr of the child share it, so it is safe for concurrent use.
type redactingWriter struct {
	mu      sync.Mutex
	w       io.Writer
	redact  func(string) string
	pending []byte
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return len(p), nil
	}
	r.pending = append(r.pending, p...)
	for {
		i := bytes.IndexByte(r.pending, '\n')
		if i < 0 {
			break
		}
		line := r.pending[:i+1]
		if _, err := io.WriteString(r.w, r.redact(string(line))); err != nil {
			return len(p), nil // losing progress output must not fail the build
		}
		r.pending = r.pending[i+1:]
	}
	if len(r.pending) > 64<<10 {
		// A carriage-return progress bar without newlines: flush anyway.
		io.WriteString(r.w, r.redact(string(r.pending)))
		r.pending = r.pending[:0]
	}
	return len(p), nil
}

// Flush writes what is left without a final newline.
func (r *redactingWriter) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil && len(r.pending) > 0 {
		io.WriteString(r.w, r.redact(string(r.pending))+"\n")
	}
	r.pending = nil
}
