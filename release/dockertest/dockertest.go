// Package dockertest is a fake docker binary for tests, named like
// net/http/httptest. A test binary plays docker: it calls Main when it is run
// under the name "docker" (testscript.Main's command map, or an init function
// checking os.Args[0] after Install made a symlink). The fake logs every
// invocation, writes the --iidfile and --metadata-file a real build writes,
// and fails on request, so argument lists and error paths are tested without
// an engine.
//
// It is configured through the environment of the docker process:
//
//	DOCKERTEST_LOG       append one JSON Call per invocation to this file
//	DOCKERTEST_DAEMON    "down": every command that needs the daemon fails as
//	                     the real CLI does when none answers
//	DOCKERTEST_BUILDX    "missing": docker buildx is not installed
//	DOCKERTEST_FAIL      the command that fails: "build" (also "buildx build")
//	                     or "push"; with DOCKERTEST_EXIT (default 1) and
//	                     DOCKERTEST_STDERR printed first
//	DOCKERTEST_BLOCK     "1": builds print "building" on stdout and then wait
//	                     to be interrupted (exit 130)
//	DOCKERTEST_PUSH      "1": pushes (docker push, buildx build --push) land
//	                     in the registry each reference names: a small image
//	                     whose config carries the build's labels and
//	                     SOURCE_DATE_EPOCH as its creation time, written with
//	                     the credentials of DOCKER_CONFIG (plain HTTP on
//	                     loopback), so a digest read back after the push is
//	                     there. A docker push finds the labels of its tag in
//	                     the last build of DOCKERTEST_LOG, which it needs.
//	                     Otherwise a push only prints a digest.
//
// It imports nothing of the module (go-containerregistry writes its pushes),
// so the tests of any package may use it.
package dockertest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Environment variables that configure the fake.
const (
	EnvLog    = "DOCKERTEST_LOG"
	EnvDaemon = "DOCKERTEST_DAEMON"
	EnvBuildx = "DOCKERTEST_BUILDX"
	EnvFail   = "DOCKERTEST_FAIL"
	EnvExit   = "DOCKERTEST_EXIT"
	EnvStderr = "DOCKERTEST_STDERR"
	EnvBlock  = "DOCKERTEST_BLOCK"
	EnvPush   = "DOCKERTEST_PUSH"
)

// DaemonDownMessage is what the docker CLI prints when nothing listens on
// its socket.
const DaemonDownMessage = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"

// Call is one logged invocation of the fake.
type Call struct {
	Args []string `json:"args"`
	// Env holds the variables a test may want to see passed through:
	// DOCKER_HOST, DOCKER_CONFIG, SOURCE_DATE_EPOCH.
	Env map[string]string `json:"env,omitempty"`
}

// Main runs the fake docker with os.Args and the process environment and
// returns its exit code.
func Main() int {
	return run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
}

// Install makes the running test binary reachable as dir/docker (a symlink)
// and returns that path. The test binary must call Main when it starts
// under that name.
func Install(t testing.TB, dir string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "docker")
	if err := os.Symlink(exe, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// IsDocker reports whether the process was started under the name docker.
func IsDocker() bool {
	return filepath.Base(os.Args[0]) == "docker"
}

// Calls reads the log the fake wrote to path (no file: no calls).
func Calls(t testing.TB, path string) []Call {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls []Call
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var c Call
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		calls = append(calls, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return calls
}

// Digest is the digest the fake reports for a build with these arguments:
// deterministic, and different when anything in the build differs.
func Digest(kind string, args []string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + strings.Join(args, "\x00")))
	return "sha256:" + hex.EncodeToString(h[:])
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if p := getenv(EnvLog); p != "" {
		c := Call{Args: args, Env: map[string]string{}}
		for _, k := range []string{"DOCKER_HOST", "DOCKER_CONFIG", "SOURCE_DATE_EPOCH"} {
			if v := getenv(k); v != "" {
				c.Env[k] = v
			}
		}
		b, _ := json.Marshal(c)
		f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(stderr, "dockertest:", err)
			return 125
		}
		f.Write(append(b, '\n'))
		f.Close()
	}
	down := getenv(EnvDaemon) == "down"
	switch cmd := command(args); cmd {
	case "buildx version":
		if getenv(EnvBuildx) == "missing" {
			fmt.Fprintln(stderr, "docker: 'buildx' is not a docker command.")
			fmt.Fprintln(stderr, "See 'docker --help'")
			return 1
		}
		fmt.Fprintln(stdout, "github.com/docker/buildx v0.0.0-dockertest fake")
		return 0
	case "version", "info":
		if down {
			fmt.Fprintln(stdout, "Client:\n Version: 28.2.2-dockertest")
			fmt.Fprintln(stderr, DaemonDownMessage)
			return 1
		}
		fmt.Fprintln(stdout, "Server:\n Version: 28.2.2-dockertest")
		return 0
	case "build", "buildx build":
		if cmd == "buildx build" && getenv(EnvBuildx) == "missing" {
			fmt.Fprintln(stderr, "docker: 'buildx' is not a docker command.")
			return 1
		}
		if down {
			prefix := ""
			if cmd == "buildx build" {
				prefix = "ERROR: "
			}
			fmt.Fprintln(stderr, prefix+DaemonDownMessage)
			return 1
		}
		return build(cmd, args, getenv, stdout, stderr)
	case "push":
		if down {
			fmt.Fprintln(stderr, DaemonDownMessage)
			return 1
		}
		if code, failed := fail("push", getenv, stderr); failed {
			return code
		}
		ref := args[len(args)-1]
		repo := ref
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			repo = ref[:i]
		}
		fmt.Fprintf(stdout, "The push refers to repository [%s]\n", repo)
		digest := Digest("push", []string{repo})
		if getenv(EnvPush) == "1" {
			build, err := lastBuildOf(getenv(EnvLog), ref)
			if err == nil {
				digest, err = pushImage(ref, flagValues(build, "--label"), getenv)
			}
			if err != nil {
				fmt.Fprintf(stderr, "dockertest: push %s: %v\n", ref, err)
				return 1
			}
		}
		fmt.Fprintf(stdout, "%s: digest: %s size: 529\n", ref[len(repo):], digest)
		return 0
	default:
		fmt.Fprintf(stderr, "dockertest: unsupported command %q\n", strings.Join(args, " "))
		return 125
	}
}

func command(args []string) string {
	if len(args) == 0 {
		return ""
	}
	if args[0] == "buildx" && len(args) > 1 {
		return "buildx " + args[1]
	}
	return args[0]
}

func fail(kind string, getenv func(string) string, stderr io.Writer) (int, bool) {
	if getenv(EnvFail) != kind {
		return 0, false
	}
	if s := getenv(EnvStderr); s != "" {
		fmt.Fprintln(stderr, s)
	}
	code := 1
	if s := getenv(EnvExit); s != "" {
		code, _ = strconv.Atoi(s)
	}
	return code, true
}

func build(cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var (
		file, iid, meta string
		context         string
	)
	for i := 1; i < len(args); i++ {
		a := args[i]
		if cmd == "buildx build" && i == 1 {
			continue // "build" of "buildx build"
		}
		switch {
		case a == "--file" || a == "-f":
			i++
			file = args[i]
		case a == "--iidfile":
			i++
			iid = args[i]
		case a == "--metadata-file":
			i++
			meta = args[i]
		case a == "--tag" || a == "-t" || a == "--label" || a == "--build-arg" || a == "--platform":
			i++
		case strings.HasPrefix(a, "--"):
			// --push, --load, --provenance=false
		default:
			context = a
		}
	}
	if context == "" {
		fmt.Fprintln(stderr, "\"docker build\" requires exactly 1 argument.")
		return 1
	}
	if file == "" {
		file = filepath.Join(context, "Dockerfile")
	}
	if _, err := os.Stat(file); err != nil {
		if cmd == "buildx build" {
			fmt.Fprintf(stderr, "ERROR: failed to build: failed to solve: failed to read dockerfile: open %s: no such file or directory\n", filepath.Base(file))
		} else {
			fmt.Fprintf(stderr, "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat %s: no such file or directory\n", file)
		}
		return 1
	}
	if getenv(EnvBlock) == "1" {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		fmt.Fprintln(stdout, "building")
		<-sig
		fmt.Fprintln(stderr, "ERROR: canceled")
		return 130
	}
	fmt.Fprintln(stderr, "#1 [internal] load build definition from Dockerfile")
	if code, failed := fail("build", getenv, stderr); failed {
		return code
	}
	config := Digest("config", args)
	if iid != "" {
		if err := os.WriteFile(iid, []byte(config), 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	if meta != "" {
		m := map[string]any{
			"containerimage.config.digest": config,
			"containerimage.digest":        Digest("manifest", args),
		}
		b, _ := json.MarshalIndent(m, "", "  ")
		if err := os.WriteFile(meta, b, 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	if cmd == "buildx build" && getenv(EnvPush) == "1" && slices.Contains(args, "--push") {
		labels := flagValues(args, "--label")
		for _, ref := range flagValues(args, "--tag") {
			if _, err := pushImage(ref, labels, getenv); err != nil {
				fmt.Fprintf(stderr, "ERROR: failed to push %s: %v\n", ref, err)
				return 1
			}
		}
	}
	fmt.Fprintln(stderr, "#9 DONE 0.1s")
	return 0
}

// flagValues are the values of every occurrence of a flag that takes one
// (--tag, --label) in a docker argument list.
func flagValues(args []string, flag string) []string {
	var out []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			out = append(out, args[i+1])
			i++
		}
	}
	return out
}

// lastBuildOf finds, in the fake's log, the arguments of the last classic
// build that tagged ref: what a docker push of ref pushes.
func lastBuildOf(log, ref string) ([]string, error) {
	if log == "" {
		return nil, fmt.Errorf("%s=1 needs %s to find the build of the tag", EnvPush, EnvLog)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var c Call
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("reading %s: %w", log, err)
		}
		if command(c.Args) == "build" && slices.Contains(flagValues(c.Args, "--tag"), ref) {
			found = c.Args
		}
	}
	if found == nil {
		return nil, fmt.Errorf("An image does not exist locally with the tag: %s", ref)
	}
	return found, nil
}

// pushImage writes a small image whose config carries labels (K=V) under
// ref, and returns its digest. Its bytes depend only on the labels and
// SOURCE_DATE_EPOCH, as a reproducible build's would.
func pushImage(ref string, labels []string, getenv func(string) string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	cfg := &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Config:       v1.Config{Labels: map[string]string{}},
		RootFS:       v1.RootFS{Type: "layers"},
	}
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		cfg.Config.Labels[k] = v
	}
	if epoch, err := strconv.ParseInt(getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		cfg.Created = v1.Time{Time: time.Unix(epoch, 0).UTC()}
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return "", err
	}
	// The default keychain reads DOCKER_CONFIG of this (docker) process.
	if err := remote.Write(r, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return "", err
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}
