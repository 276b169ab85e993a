package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/releasetool/release/release/dockertest"
)

// The test binary plays docker when it runs under that name (see
// dockertest.Install).
func init() {
	if dockertest.IsDocker() {
		os.Exit(dockertest.Main())
	}
}

// fakeDocker installs the fake docker in a temporary directory and returns
// a DockerCLI running it with the given extra environment, and the log path.
func fakeDocker(t *testing.T, env ...string) (DockerCLI, string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "docker.log")
	d := DockerCLI{
		Path: dockertest.Install(t, dir),
		Env:  append([]string{"PATH=/usr/bin:/bin", dockertest.EnvLog + "=" + log}, env...),
		// The fake decides whether buildx exists, not this machine.
		PluginDirs: []string{},
	}
	return d, log
}

func TestDockerCLIRun(t *testing.T) {
	d, log := fakeDocker(t, "DOCKER_HOST=unix:///tmp/test.sock")
	var out strings.Builder
	d.Output = &syncWriter{w: &out}
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "--label", "a=b c", "--iidfile", filepath.Join(ctxDir, "iid"), ctxDir}
	if err := d.Run(t.Context(), args, []string{"SOURCE_DATE_EPOCH=1709294400"}); err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	want := []dockertest.Call{{
		Args: args,
		Env:  map[string]string{"DOCKER_HOST": "unix:///tmp/test.sock", "SOURCE_DATE_EPOCH": "1709294400"},
	}}
	if diff := cmp.Diff(want, dockertest.Calls(t, log)); diff != "" {
		t.Errorf("docker calls mismatch (-want +got):\n%s", diff)
	}
	iid, err := os.ReadFile(filepath.Join(ctxDir, "iid"))
	if err != nil || !strings.HasPrefix(string(iid), "sha256:") {
		t.Errorf("iidfile = %q, %v", iid, err)
	}
	if !strings.Contains(out.String(), "load build definition") {
		t.Errorf("docker's output did not reach Output: %q", out.String())
	}
}

func TestDockerCLIErrors(t *testing.T) {
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := []string{"buildx", "build", "--push", ctxDir}
	tests := []struct {
		name     string
		env      []string
		path     string
		args     []string
		redact   []string
		wantIs   error
		wantExit int
		want     []string // substrings of the message
		notWant  []string
		wantHint string
	}{
		{
			name:     "build fails",
			env:      []string{"DOCKERTEST_FAIL=build", "DOCKERTEST_EXIT=17", "DOCKERTEST_STDERR=ERROR: pip install: 404 from https://ci:s3cr3tT0ken@pypi.example/simple (key hunter2x)"},
			args:     build,
			redact:   []string{"hunter2x"},
			wantExit: 17,
			want:     []string{"docker buildx build: exit status 17", "load build definition", "404 from https://ci:xxxxx@pypi.example/simple", "(key xxxxx)"},
			notWant:  []string{"s3cr3tT0ken", "hunter2x"},
		},
		{
			name:     "dockerfile missing",
			args:     []string{"build", t.TempDir()},
			wantExit: 1,
			want:     []string{"docker build: exit status 1", "no such file or directory"},
		},
		{
			name:     "push fails",
			env:      []string{"DOCKERTEST_FAIL=push", "DOCKERTEST_STDERR=denied: requested access to the resource is denied"},
			args:     []string{"push", "reg.example/app:1.0.0"},
			wantExit: 1,
			want:     []string{"docker push: exit status 1", "denied"},
		},
		{
			name:     "daemon down",
			env:      []string{"DOCKERTEST_DAEMON=down"},
			args:     build,
			wantIs:   ErrDaemonUnreachable,
			want:     []string{"docker daemon not reachable: Cannot connect to the Docker daemon at unix:///var/run/docker.sock"},
			wantHint: "start the docker daemon",
		},
		{
			name:     "daemon down, docker 28 wording",
			env:      []string{"DOCKERTEST_FAIL=build", "DOCKERTEST_STDERR=ERROR: failed to connect to the docker API at unix:///x.sock; check if the path is correct and if the daemon is running: dial unix /x.sock: connect: no such file or directory"},
			args:     build,
			wantIs:   ErrDaemonUnreachable,
			want:     []string{"docker daemon not reachable: failed to connect to the docker API at unix:///x.sock"},
			wantHint: "start the docker daemon",
		},
		{
			name:     "binary missing",
			path:     filepath.Join(t.TempDir(), "no-docker-here"),
			args:     build,
			wantIs:   ErrDockerMissing,
			want:     []string{"docker binary not found"},
			wantHint: "--docker PATH",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := fakeDocker(t, tt.env...)
			if tt.path != "" {
				d.Path = tt.path
			}
			d.Redact = tt.redact
			err := d.Run(t.Context(), tt.args, nil)
			if err == nil {
				t.Fatal("Run() succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Run() error = %v, want %v", err, tt.wantIs)
			}
			var de *DockerError
			if tt.wantExit != 0 {
				if !errors.As(err, &de) || de.ExitCode != tt.wantExit {
					t.Errorf("Run() error = %#v, want a DockerError with exit status %d", err, tt.wantExit)
				}
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
			var h *HintError
			if tt.wantHint != "" && (!errors.As(err, &h) || !strings.Contains(h.Hint, tt.wantHint)) {
				t.Errorf("error %v: want a hint containing %q", err, tt.wantHint)
			}
		})
	}
}

func TestDockerCLIMissingFromPath(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := DockerCLI{}.Detect(t.Context())
	if !errors.Is(err, ErrDockerMissing) {
		t.Errorf("Detect() error = %v, want ErrDockerMissing", err)
	}
}

func TestDockerCLIDetect(t *testing.T) {
	tests := []struct {
		env  []string
		want Builder
	}{
		{nil, BuilderBuildx},
		{[]string{"DOCKERTEST_BUILDX=missing"}, BuilderClassic},
		// Detection needs no daemon.
		{[]string{"DOCKERTEST_DAEMON=down"}, BuilderBuildx},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.env), func(t *testing.T) {
			d, _ := fakeDocker(t, tt.env...)
			got, err := d.Detect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Detect() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDockerCLICancel(t *testing.T) {
	d, _ := fakeDocker(t, "DOCKERTEST_BLOCK=1")
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := make(chan struct{})
	var once sync.Once
	// Cancel once docker says it is building: no sleep decides the order.
	d.Output = writerFunc(func(p []byte) (int, error) {
		if strings.Contains(string(p), "building") {
			once.Do(func() { close(started) })
		}
		return len(p), nil
	})
	go func() {
		<-started
		cancel()
	}()
	err := d.Run(ctx, []string{"build", ctxDir}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run() error = %v, want context.Canceled", err)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 100}
	for i := range 50 {
		fmt.Fprintf(tb, "line %d\n", i)
	}
	if n := len(tb.String()); n > 100 {
		t.Errorf("tail buffer holds %d bytes, want at most 100", n)
	}
	if diff := cmp.Diff("line 47\nline 48\nline 49", tb.Tail(3)); diff != "" {
		t.Errorf("Tail(3) mismatch (-want +got):\n%s", diff)
	}
}

func TestRedactingWriter(t *testing.T) {
	var out strings.Builder
	w := &redactingWriter{w: &out, redact: DockerCLI{Redact: []string{"topsecret"}}.redact}
	fmt.Fprint(w, "pulling https://u:pw")
	fmt.Fprint(w, "123@h/x\nkey=topsecret\npartial")
	w.Flush()
	want := "pulling https://u:xxxxx@h/x\nkey=xxxxx\npartial\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("redacted output mismatch (-want +got):\n%s", diff)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestDockerCLIDetectPlugin(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, configDir string)
		want   Builder
		execed bool // whether `docker buildx version` had to run
	}{
		{
			name: "plugin in DOCKER_CONFIG",
			setup: func(t *testing.T, dir string) {
				writeExec(t, filepath.Join(dir, "cli-plugins", "docker-buildx"), 0o755)
			},
			want: BuilderBuildx,
		},
		{
			name: "plugin in an extra directory of config.json",
			setup: func(t *testing.T, dir string) {
				extra := filepath.Join(t.TempDir(), "plugins")
				writeExec(t, filepath.Join(extra, "docker-buildx"), 0o755)
				writeExec(t, filepath.Join(dir, "config.json"), 0o644)
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"cliPluginsExtraDirs":["`+extra+`"]}`), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: BuilderBuildx,
		},
		{
			name: "not executable: ask docker",
			setup: func(t *testing.T, dir string) {
				writeExec(t, filepath.Join(dir, "cli-plugins", "docker-buildx"), 0o644)
			},
			want:   BuilderClassic,
			execed: true,
		},
		{
			name:   "no plugin: ask docker",
			setup:  func(*testing.T, string) {},
			want:   BuilderClassic,
			execed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			configDir := t.TempDir()
			tt.setup(t, configDir)
			d, log := fakeDocker(t, "DOCKER_CONFIG="+configDir, "DOCKERTEST_BUILDX=missing")
			got, err := d.Detect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Detect() = %q, want %q", got, tt.want)
			}
			if execed := len(dockertest.Calls(t, log)) > 0; execed != tt.execed {
				t.Errorf("docker ran: %t, want %t", execed, tt.execed)
			}
		})
	}
}

func writeExec(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}
