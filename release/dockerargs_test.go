package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testMeta = ImageMeta{
	Version:  "1.3.0",
	PEP440:   "1.3.0",
	Revision: "0123456789abcdef0123456789abcdef01234567",
	Source:   "https://git.example.org/org/pythonapp",
	Created:  time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600)),
	Project: Project{
		Name:          "pythonapp",
		Description:   `A "small" service # with, odd: characters`,
		License:       "MIT",
		Authors:       "Ada Lovelace <ada@example.org>",
		Homepage:      "https://example.org/app",
		Documentation: "https://docs.example.org/app",
	},
	BaseName: "python:3.12-slim",
	Vendor:   "Example Corp",
}

func TestDockerCommands(t *testing.T) {
	bare := ImageMeta{Version: "2.1.0-rc.1", Revision: testMeta.Revision, Created: testMeta.Created, Scratch: true}
	tests := []struct {
		name string
		req  DockerRequest
	}{
		{
			name: "buildx_push_multiplatform",
			req: DockerRequest{
				Builder:    BuilderBuildx,
				Context:    ".",
				Dockerfile: "deploy/Dockerfile",
				Tags:       []string{"reg.example/app:1.3.0", "reg.example/app:sha-0123456789ab", "reg.example/app:1.3", "reg.example/app:1", "reg.example/app:latest"},
				Platforms:  []string{"linux/amd64", "linux/arm64"},
				Labels: Labels(testMeta, []KV{
					{Key: "com.example.team", Value: "payments and 'billing'"},
					{Key: LabelVendor, Value: "Overridden Vendor"},
				}),
				BuildArgs: BuildArgs(testMeta, []KV{{Key: "PIP_INDEX_URL", Value: "http://127.0.0.1:3141/simple"}}),
				Push:      true,
			},
		},
		{
			name: "buildx_load_provenance",
			req: DockerRequest{
				Builder:    BuilderBuildx,
				Context:    "/src/app",
				Tags:       []string{"app:2.1.0-rc.1"},
				Platforms:  []string{"linux/amd64"},
				Labels:     Labels(bare, nil),
				BuildArgs:  BuildArgs(bare, nil),
				Provenance: "min",
			},
		},
		{
			name: "buildx_multiplatform_no_push",
			req: DockerRequest{
				Builder:   BuilderBuildx,
				Context:   ".",
				Tags:      []string{"app:1.3.0"},
				Platforms: []string{"linux/amd64", "linux/arm64"},
			},
		},
		{
			name: "classic_push",
			req: DockerRequest{
				Builder:   BuilderClassic,
				Context:   ".",
				Tags:      []string{"127.0.0.1:5000/app:1.3.0", "127.0.0.1:5000/app:sha-0123456789ab", "127.0.0.1:5000/app:1.3", "127.0.0.1:5000/app:latest"},
				Platforms: []string{"linux/amd64"},
				Network:   "host",
				Labels:    Labels(testMeta, nil),
				BuildArgs: BuildArgs(testMeta, nil),
				Push:      true,
				IIDFile:   "/tmp/release-build/iid",
			},
		},
		{
			name: "classic_load",
			req: DockerRequest{
				Builder:   BuilderClassic,
				Context:   "ctx dir",
				Tags:      []string{"app:2.1.0-rc.1"},
				Labels:    Labels(bare, nil),
				BuildArgs: BuildArgs(bare, nil),
				IIDFile:   "/tmp/iid",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DockerCommands(tt.req)
			if err != nil {
				t.Fatalf("DockerCommands() error = %v", err)
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			golden(t, "TestDockerCommands/"+tt.name+".golden", b.Bytes())
		})
	}
}

func TestDockerCommandsErrors(t *testing.T) {
	ok := DockerRequest{Builder: BuilderBuildx, Context: ".", Tags: []string{"app:1"}}
	tests := []struct {
		name   string
		modify func(*DockerRequest)
		want   string
	}{
		{"no context", func(r *DockerRequest) { r.Context = "" }, "build context"},
		{"no tags", func(r *DockerRequest) { r.Tags = nil }, "none to build"},
		{"classic multiplatform", func(r *DockerRequest) {
			r.Builder, r.Platforms = BuilderClassic, []string{"linux/amd64", "linux/arm64"}
		}, "one platform"},
		{"classic provenance", func(r *DockerRequest) { r.Builder, r.Provenance = BuilderClassic, "min" }, "attestations"},
		{"bad provenance", func(r *DockerRequest) { r.Provenance = "full" }, "want min or max"},
		{"auto not resolved", func(r *DockerRequest) { r.Builder = BuilderAuto }, "builder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.modify(&r)
			_, err := DockerCommands(r)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
				t.Errorf("DockerCommands() error = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		name string
		meta ImageMeta
		user []KV
		want map[string]string
	}{
		{
			name: "full",
			meta: testMeta,
			want: map[string]string{
				LabelVersion:       "1.3.0",
				LabelRevision:      "0123456789abcdef0123456789abcdef01234567",
				LabelSource:        "https://git.example.org/org/pythonapp",
				LabelCreated:       "2024-03-01T11:00:00Z",
				LabelTitle:         "pythonapp",
				LabelDescription:   `A "small" service # with, odd: characters`,
				LabelLicenses:      "MIT",
				LabelURL:           "https://example.org/app",
				LabelDocumentation: "https://docs.example.org/app",
				LabelAuthors:       "Ada Lovelace <ada@example.org>",
				LabelBaseName:      "python:3.12-slim",
				LabelBaseDigest:    "",
				LabelVendor:        "Example Corp",
			},
		},
		{
			name: "unknown keys cleared, scratch has no base keys",
			meta: ImageMeta{Version: "1.0.0", Revision: "abc", Scratch: true},
			want: map[string]string{
				LabelVersion: "1.0.0", LabelRevision: "abc", LabelSource: "", LabelCreated: "",
				LabelTitle: "", LabelDescription: "", LabelLicenses: "", LabelURL: "",
				LabelDocumentation: "", LabelAuthors: "", LabelVendor: "",
			},
		},
		{
			name: "pyproject source when git has none; user wins",
			meta: ImageMeta{Version: "1.0.0", Project: Project{Source: "https://git.example.org/p"}, BaseName: "python:3"},
			user: []KV{{Key: LabelTitle, Value: "Custom"}, {Key: "x", Value: "y=z"}},
			want: map[string]string{
				LabelVersion: "1.0.0", LabelRevision: "", LabelSource: "https://git.example.org/p", LabelCreated: "",
				LabelTitle: "Custom", LabelDescription: "", LabelLicenses: "", LabelURL: "",
				LabelDocumentation: "", LabelAuthors: "", LabelVendor: "", LabelBaseName: "python:3",
				LabelBaseDigest: "", "x": "y=z",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			kvs := Labels(tt.meta, tt.user)
			for i, kv := range kvs {
				got[kv.Key] = kv.Value
				if i > 0 && kvs[i-1].Key >= kv.Key {
					t.Errorf("labels not sorted or duplicated at %q", kv.Key)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Labels() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildArgs(t *testing.T) {
	tests := []struct {
		name string
		meta ImageMeta
		user []KV
		want []KV
	}{
		{
			name: "python project",
			meta: ImageMeta{Version: "1.3.0-rc.1", PEP440: "1.3.0rc1", Revision: "abc", Created: time.Unix(1709294400, 0), Project: Project{Name: "my-app"}},
			want: []KV{
				{"RELEASE_REVISION", "abc"},
				{"RELEASE_VERSION", "1.3.0-rc.1"},
				{"RELEASE_VERSION_PEP440", "1.3.0rc1"},
				{"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_APP", "1.3.0rc1"},
				{"SOURCE_DATE_EPOCH", "1709294400"},
			},
		},
		{
			name: "no pep440 form, no project",
			meta: ImageMeta{Version: "1.3.0-feature.x", Revision: "abc"},
			want: []KV{{"RELEASE_REVISION", "abc"}, {"RELEASE_VERSION", "1.3.0-feature.x"}},
		},
		{
			name: "user wins",
			meta: ImageMeta{Version: "1.0.0", Revision: "abc"},
			user: []KV{{"RELEASE_VERSION", "custom"}, {"A", "b c"}},
			want: []KV{{"A", "b c"}, {"RELEASE_REVISION", "abc"}, {"RELEASE_VERSION", "custom"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, BuildArgs(tt.meta, tt.user)); diff != "" {
				t.Errorf("BuildArgs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseKV(t *testing.T) {
	tests := []struct {
		in      string
		want    KV
		wantErr bool
	}{
		{"a=b", KV{"a", "b"}, false},
		{"a=", KV{"a", ""}, false},
		{"a=b=c", KV{"a", "b=c"}, false},
		{"a", KV{}, true},
		{"=b", KV{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKV(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseKV(%q) error = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseKV(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	got := ShellQuote([]string{"docker", "build", "--label", "a=it's b", "", "x#y", "--tag", "r:5000/a:1.0"})
	want := `docker build --label 'a=it'\''s b' '' 'x#y' --tag r:5000/a:1.0`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ShellQuote() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseBuilder(t *testing.T) {
	for in, want := range map[string]Builder{"": BuilderAuto, "auto": BuilderAuto, "Buildx": BuilderBuildx, "classic": BuilderClassic} {
		got, err := ParseBuilder(in)
		if err != nil || got != want {
			t.Errorf("ParseBuilder(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseBuilder("podman"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseBuilder(podman) error = %v, want ErrInvalid", err)
	}
}
