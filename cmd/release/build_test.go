package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo/gitinfotest"
	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release/dockertest"
)

// TestBuildKVFlags checks the K=V flags: never split at commas, one value
// per line in the environment, and the command line replacing the
// environment.
func TestBuildKVFlags(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want map[string]string
	}{
		{name: "flags keep commas", args: []string{"--label", "a=1,2", "--label", "b=x, y"}, want: map[string]string{"a": "1,2", "b": "x, y"}},
		{name: "environment, one per line", env: "a=1, 2\nb=3\r\n\n", want: map[string]string{"a": "1, 2", "b": "3"}},
		{name: "flag replaces environment", env: "a=1\nb=2", args: []string{"--label", "c=3"}, want: map[string]string{"c": "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gitinfotest.New(t)
			r.Commit("feat: first", gitinfotest.File("Dockerfile", "FROM scratch\n"))
			if tt.env != "" {
				t.Setenv("RELEASE_LABEL", tt.env)
			}
			args := append([]string{"build", "--image", "app", "--version", "1.0.0", "--dry-run", "--builder", "buildx", "--json"}, tt.args...)
			code, out, errOut := runWith(t, r.Dir, nil, args...)
			if code != 0 {
				t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
			}
			var res struct {
				Labels map[string]string `json:"labels"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			got := map[string]string{}
			for _, k := range []string{"a", "b", "c"} {
				if v, ok := res.Labels[k]; ok {
					got[k] = v
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("user labels mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildPushDockerCalls runs `release build --push` through the real
// code path (flags, Build, DockerCLI) against the fake docker of
// release/dockertest, played by this test binary, and an in-process
// registry the fake pushes to. The whole argument log of the fake is
// compared with a golden file per builder (regenerate with -update): the
// tags, their order, the labels, the build arguments, --network, the
// environment docker gets and the classic builder's one push per tag.
func TestBuildPushDockerCalls(t *testing.T) {
	for _, builder := range []string{"buildx", "classic"} {
		t.Run(builder, func(t *testing.T) {
			r := gitinfotest.New(t)
			r.Commit("feat: first", gitinfotest.File("Dockerfile", "ARG PYTHON_IMAGE=python:3.12-slim\nFROM ${PYTHON_IMAGE}\n"),
				gitinfotest.File("pyproject.toml", "[project]\nname = \"pythonapp\"\ndescription = \"Sample, with a comma\"\nlicense = \"MIT\"\n"),
				gitinfotest.At(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)))
			r.Tag("v1.2.0", "HEAD")
			r.Tag("v2.0.0", "HEAD")
			head := r.Commit("feat: more", gitinfotest.At(time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)))
			r.AddRemote("origin", "https://ci:s3cr3tT0ken@git.example.org/org/pythonapp.git")
			srv := registrytest.New(t)
			bin := t.TempDir()
			docker := dockertest.Install(t, bin)
			log := filepath.Join(bin, "docker.log")
			t.Setenv(dockertest.EnvLog, log)
			t.Setenv(dockertest.EnvPush, "1")
			dockerConfig := t.TempDir()
			t.Setenv("DOCKER_CONFIG", dockerConfig)
			t.Setenv("DOCKER_HOST", "unix:///run/dockertest.sock")
			repo := srv.Host + "/org/app"

			code, out, errOut := runWith(t, r.Dir, nil, "build", "--docker", docker, "--builder", builder,
				"--image", repo, "--version", "1.3.0", "--push", "--json", "--network", "host",
				"--label", "com.example.team=a, b # c", "--build-arg", "PIP_INDEX_URL=http://127.0.0.1:3141/simple")
			if code != 0 {
				t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
			}
			if strings.Contains(out+errOut, "s3cr3tT0ken") {
				t.Errorf("the remote's token reached the output:\nstdout:\n%s\nstderr:\n%s", out, errOut)
			}

			// --json: its shape, and the digest every tag has in the registry.
			var res struct {
				Version  string            `json:"version"`
				Revision string            `json:"revision"`
				Labels   map[string]string `json:"labels"`
				Images   []struct {
					Repository string   `json:"repository"`
					Tags       []string `json:"tags"`
					Digest     string   `json:"digest"`
				} `json:"images"`
			}
			dec := json.NewDecoder(strings.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&res); err != nil {
				t.Fatalf("--json output: %v\n%s", err, out)
			}
			wantTags := []string{"1.3.0", "sha-" + head[:12], "1.3", "1"}
			if len(res.Images) != 1 || res.Images[0].Repository != repo || !slices.Equal(res.Images[0].Tags, wantTags) || res.Revision != head {
				t.Fatalf("--json = %+v, want %s with tags %v of %s", res, repo, wantTags, head)
			}
			client, err := registry.New()
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range wantTags {
				d, err := client.Resolve(t.Context(), repo+":"+tag)
				if err != nil {
					t.Fatal(err)
				}
				if d.Digest != res.Images[0].Digest {
					t.Errorf("%s:%s is %s in the registry, --json says %s", repo, tag, d.Digest, res.Images[0].Digest)
				}
			}

			// The argument log, made independent of ports, paths and hashes.
			calls := dockertest.Calls(t, log)
			raw, err := json.MarshalIndent(calls, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got := strings.NewReplacer(srv.Host, "REGISTRY", r.Dir, "CONTEXT", dockerConfig, "DOCKER_CONFIG", head, "REVISION", head[:12], "REVISION12").Replace(string(raw))
			got = regexp.MustCompile(`"[^"]*/release-build-[0-9]+/iid"`).ReplaceAllString(got, `"TMPDIR/iid"`) + "\n"
			if strings.Contains(got, "s3cr3tT0ken") {
				t.Errorf("the remote's token reached docker's arguments")
			}
			golden := filepath.Join("testdata", t.Name()+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("docker calls mismatch (-want +got), run with -update if intended:\n%s", diff)
			}
		})
	}
}
