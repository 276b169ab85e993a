package releasetest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorder is a testing.TB that records Skip and Fatal instead of acting on
// the real test. Like the real ones, both end the calling goroutine.
type recorder struct {
	testing.TB // nil: calling anything not overridden here panics
	skipped    string
	failed     string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.skipped = strings.TrimSpace(fmt.Sprintln(args...))
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = strings.TrimSpace(fmt.Sprintln(args...))
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// outcome is what envFrom did with a given environment.
type outcome struct {
	Returned bool
	Skipped  bool
	Failed   bool
	Env      Environment
}

// callEnv runs envFrom on env in its own goroutine, as the testing package
// runs a test, so Skip and Fatal can end it.
func callEnv(env map[string]string) (outcome, *recorder) {
	rec := &recorder{}
	var out outcome
	done := make(chan struct{})
	go func() {
		defer close(done)
		out.Env = envFrom(rec, func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		})
		out.Returned = true
	}()
	<-done
	out.Skipped = rec.skipped != ""
	out.Failed = rec.failed != ""
	return out, rec
}

func complete() map[string]string {
	return map[string]string{
		VarDockerHost:       "unix:///state/docker/docker.sock",
		VarDockerConfig:     "/state/docker-config",
		VarPythonImage:      "release-testenv/python:3.11-slim",
		VarRegistry:         "127.0.0.1:20001",
		VarRegistryTLS:      "127.0.0.1:20002",
		VarRegistryCA:       "/cache/tls/ca.crt",
		VarRegistryCertDir:  "/state/registry-tls/certs",
		VarRegistryUser:     "release-test",
		VarRegistryPassword: "s3cret",
		VarBuildx:           "1",
	}
}

func with(env map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(env, kv[i])
			continue
		}
		env[kv[i]] = kv[i+1]
	}
	return env
}

func TestEnvSkipOrFail(t *testing.T) {
	full := Environment{
		dockerHost:       "unix:///state/docker/docker.sock",
		dockerConfig:     "/state/docker-config",
		pythonImage:      "release-testenv/python:3.11-slim",
		registry:         "127.0.0.1:20001",
		registryTLS:      "127.0.0.1:20002",
		registryCA:       "/cache/tls/ca.crt",
		registryCertDir:  "/state/registry-tls/certs",
		registryUser:     "release-test",
		registryPassword: "s3cret",
		buildx:           true,
	}
	noBuildx := full
	noBuildx.buildx = false
	tests := []struct {
		name     string
		env      map[string]string
		want     outcome
		wantText string // a substring of the skip or failure message
	}{
		{
			name: "complete",
			env:  complete(),
			want: outcome{Returned: true, Env: full},
		},
		{
			name: "complete in CI",
			env:  with(complete(), "CI", "true"),
			want: outcome{Returned: true, Env: full},
		},
		{
			name: "buildx absent",
			env:  with(complete(), VarBuildx, "0"),
			want: outcome{Returned: true, Env: noBuildx},
		},
		{
			name:     "nothing set skips",
			env:      map[string]string{},
			want:     outcome{Skipped: true},
			wantText: "(RELEASE_TEST_* variables unset): run `scripts/testenv up`",
		},
		{
			name:     "nothing set fails in CI",
			env:      map[string]string{"CI": "true"},
			want:     outcome{Failed: true},
			wantText: "scripts/testenv up",
		},
		{
			name:     "CI=1 fails too",
			env:      map[string]string{"CI": "1"},
			want:     outcome{Failed: true},
			wantText: "CI=1: test environment not available",
		},
		{
			name:     "CI=yes fails too",
			env:      map[string]string{"CI": "yes"},
			want:     outcome{Failed: true},
			wantText: "CI=yes: test environment not available",
		},
		{
			name:     "CI=false skips",
			env:      map[string]string{"CI": "false"},
			want:     outcome{Skipped: true},
			wantText: "scripts/testenv up",
		},
		{
			name:     "CI empty skips",
			env:      map[string]string{"CI": ""},
			want:     outcome{Skipped: true},
			wantText: "scripts/testenv up",
		},
		{
			name:     "one missing is named",
			env:      with(complete(), VarRegistryTLS, "<unset>"),
			want:     outcome{Skipped: true},
			wantText: "(" + VarRegistryTLS + " unset)",
		},
		{
			name:     "blank counts as missing",
			env:      with(complete(), VarRegistryCA, "  ", "CI", "true"),
			want:     outcome{Failed: true},
			wantText: VarRegistryCA + " unset",
		},
		{
			name:     "malformed buildx fails even outside CI",
			env:      with(complete(), VarBuildx, "maybe"),
			want:     outcome{Failed: true},
			wantText: VarBuildx + `="maybe"`,
		},
		{
			name:     "docker host without a scheme fails",
			env:      with(complete(), VarDockerHost, "/run/docker.sock"),
			want:     outcome{Failed: true},
			wantText: "DOCKER_HOST address",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rec := callEnv(tt.env)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Environment{})); diff != "" {
				t.Errorf("envFrom outcome (-want +got):\n%s\nskip: %q\nfail: %q", diff, rec.skipped, rec.failed)
			}
			if msg := rec.skipped + rec.failed; !strings.Contains(msg, tt.wantText) {
				t.Errorf("message %q does not contain %q", msg, tt.wantText)
			}
		})
	}
}

// TestEnvReadsProcessEnvironment checks the exported entry point reads the
// real process environment (the table above covers the decisions).
func TestEnvReadsProcessEnvironment(t *testing.T) {
	for k, v := range complete() {
		t.Setenv(k, v)
	}
	t.Setenv(VarPythonImage, "example/python:test")
	if got := Env(t).PythonImage(); got != "example/python:test" {
		t.Errorf("PythonImage() = %q, want %q", got, "example/python:test")
	}
}

func TestAccessors(t *testing.T) {
	out, _ := callEnv(complete())
	e := out.Env
	got := map[string]any{
		"DockerHost":       e.DockerHost(),
		"DockerConfig":     e.DockerConfig(),
		"DockerEnv":        e.DockerEnv(),
		"PythonImage":      e.PythonImage(),
		"Registry":         e.Registry(),
		"RegistryTLS":      e.RegistryTLS(),
		"RegistryCA":       e.RegistryCA(),
		"RegistryCertDir":  e.RegistryCertDir(),
		"RegistryUser":     e.RegistryUser(),
		"RegistryPassword": e.RegistryPassword(),
		"Buildx":           e.Buildx(),
	}
	want := map[string]any{
		"DockerHost":       "unix:///state/docker/docker.sock",
		"DockerConfig":     "/state/docker-config",
		"DockerEnv":        []string{"DOCKER_HOST=unix:///state/docker/docker.sock", "DOCKER_CONFIG=/state/docker-config"},
		"PythonImage":      "release-testenv/python:3.11-slim",
		"Registry":         "127.0.0.1:20001",
		"RegistryTLS":      "127.0.0.1:20002",
		"RegistryCA":       "/cache/tls/ca.crt",
		"RegistryCertDir":  "/state/registry-tls/certs",
		"RegistryUser":     "release-test",
		"RegistryPassword": "s3cret",
		"Buildx":           true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("accessors (-want +got):\n%s", diff)
	}
}

func TestDockerConfigCopy(t *testing.T) {
	shared := t.TempDir()
	config := []byte(`{"auths":{"127.0.0.1:20002":{"auth":"eDp5"}}}`)
	if err := os.WriteFile(filepath.Join(shared, "config.json"), config, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(shared, "cli-plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := Environment{dockerConfig: shared}

	dir := e.DockerConfigCopy(t)
	got, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(config), string(got)); diff != "" {
		t.Errorf("copied config.json (-want +got):\n%s", diff)
	}
	// Writing the copy leaves the shared config alone.
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(shared, "config.json")); string(after) != string(config) {
		t.Errorf("shared config.json changed to %s", after)
	}
	if target, err := os.Readlink(filepath.Join(dir, "cli-plugins")); err != nil || target != filepath.Join(shared, "cli-plugins") {
		t.Errorf("cli-plugins link = %q, %v; want a link to %s", target, err, filepath.Join(shared, "cli-plugins"))
	}
}
