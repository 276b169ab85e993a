package release

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePyproject(t *testing.T) {
	long := strings.Repeat("word ", 100)
	tests := []struct {
		name    string
		toml    string
		want    Project
		wantErr bool
	}{
		{
			name: "pep 621 full",
			toml: `
[project]
name = "pythonapp"
description = "A small service.\nSecond line ignored."
license = "MIT OR Apache-2.0"
authors = [
  {name = "Ada Lovelace", email = "ada@example.org"},
  {name = "Team"},
  {email = "ops@example.org"},
]
[project.urls]
Homepage = "https://example.org/app"
Documentation = "https://docs.example.org/app"
Source = "https://git.example.org/org/app"
`,
			want: Project{
				Name:          "pythonapp",
				Description:   "A small service.",
				License:       "MIT OR Apache-2.0",
				Authors:       "Ada Lovelace <ada@example.org>, Team, ops@example.org",
				Homepage:      "https://example.org/app",
				Documentation: "https://docs.example.org/app",
				Source:        "https://git.example.org/org/app",
			},
		},
		{
			name: "url labels normalised and aliased",
			toml: `
[project]
name = "x"
[project.urls]
"Home-Page" = "https://example.org"
docs = "https://docs.example.org"
Repository = "https://user:secret@git.example.org/x"
Changelog = "https://example.org/changes"
`,
			want: Project{Name: "x", Homepage: "https://example.org", Documentation: "https://docs.example.org", Source: "https://git.example.org/x"},
		},
		{
			name: "canonical label beats alias",
			toml: "[project.urls]\nrepository = \"https://a.example/r\"\nsource = \"https://b.example/s\"\n",
			want: Project{Source: "https://b.example/s"},
		},
		{
			name: "non-web urls dropped",
			toml: "[project.urls]\nHomepage = \"ftp://example.org\"\nDocumentation = \"docs/index.html\"\n",
			want: Project{},
		},
		{name: "license table text", toml: "[project]\nlicense = {text = \"BSD-3-Clause\"}\n", want: Project{License: "BSD-3-Clause"}},
		{name: "license table prose", toml: "[project]\nlicense = {text = \"Permission is hereby granted...\"}\n", want: Project{}},
		{name: "license file", toml: "[project]\nlicense = {file = \"LICENSE\"}\n", want: Project{}},
		{name: "license not an expression", toml: "[project]\nlicense = \"MIT License\"\n", want: Project{}},
		{name: "license with exception and parens", toml: "[project]\nlicense = \"(GPL-2.0-or-later WITH Classpath-exception-2.0) AND LicenseRef-Foo\"\n", want: Project{License: "(GPL-2.0-or-later WITH Classpath-exception-2.0) AND LicenseRef-Foo"}},
		{name: "license dangling operator", toml: "[project]\nlicense = \"MIT OR\"\n", want: Project{}},
		{name: "license unbalanced", toml: "[project]\nlicense = \"(MIT\"\n", want: Project{}},
		{name: "description capped", toml: "[project]\ndescription = \"" + long + "\"\n", want: Project{Description: strings.TrimSpace(long[:299]) + "…"}},
		{name: "description whitespace collapsed", toml: "[project]\ndescription = \"  a\\t b  \"\n", want: Project{Description: "a b"}},
		{
			name: "poetry fallback",
			toml: `
[tool.poetry]
name = "poetry-app"
description = "From poetry"
license = "MIT"
authors = ["Grace Hopper <grace@example.org>"]
homepage = "https://example.org"
repository = "https://git.example.org/p"
documentation = "https://docs.example.org/p"
`,
			want: Project{
				Name: "poetry-app", Description: "From poetry", License: "MIT",
				Authors: "Grace Hopper <grace@example.org>", Homepage: "https://example.org",
				Documentation: "https://docs.example.org/p", Source: "https://git.example.org/p",
			},
		},
		{
			name: "project wins over poetry",
			toml: "[project]\nname = \"a\"\n[tool.poetry]\nname = \"b\"\ndescription = \"from poetry\"\n",
			want: Project{Name: "a", Description: "from poetry"},
		},
		{name: "case-insensitive keys", toml: "[Project]\nName = \"x\"\n[Project.URLs]\nHOMEPAGE = \"https://e.example\"\n", want: Project{Name: "x", Homepage: "https://e.example"}},
		{name: "dynamic version only", toml: "[project]\nname = \"x\"\ndynamic = [\"version\"]\n", want: Project{Name: "x"}},
		{name: "wrong types ignored", toml: "[project]\nname = 1\nauthors = \"me\"\nurls = \"x\"\n", want: Project{}},
		{name: "empty", toml: "", want: Project{}},
		{name: "invalid toml", toml: "[project\nname = ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePyproject([]byte(tt.toml))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParsePyproject() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePyproject() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPretendVersionArg(t *testing.T) {
	tests := []struct{ dist, want string }{
		{"pythonapp", "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PYTHONAPP"},
		{"my-app", "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_APP"},
		{"My.App__x--y", "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_APP_X_Y"},
		{"-lead", "SETUPTOOLS_SCM_PRETEND_VERSION_FOR__LEAD"},
		{"zope.interface", "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_ZOPE_INTERFACE"},
		{"", ""},
		{"bad name", ""},
		{"naïve", ""},
	}
	for _, tt := range tests {
		t.Run(tt.dist, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, PretendVersionArg(tt.dist)); diff != "" {
				t.Errorf("PretendVersionArg(%q) mismatch (-want +got):\n%s", tt.dist, diff)
			}
		})
	}
}

// FuzzParsePyproject: any pyproject.toml parses or is refused; labels made
// from it are single lines.
func FuzzParsePyproject(f *testing.F) {
	for _, s := range []string{
		"[project]\nname = \"app\"\ndescription = \"x\"\nlicense = \"MIT\"\n",
		"[project]\nname = \"a\"\nlicense = { text = \"Apache-2.0\" }\nauthors = [{ name = \"A\", email = \"a@x\" }]\n[project.urls]\nHomepage = \"https://x\"\n",
		"[tool.poetry]\nname = \"p\"\ndescription = \"d\"\n", "[project]\nname = 1\n", "not toml = = \n",
		"[project]\ndescription = \"line one\\nline two\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePyproject([]byte(s))
		if err != nil {
			return
		}
		for _, v := range []string{p.Name, p.Description} {
			if strings.ContainsAny(v, "\r\n") {
				t.Errorf("multi-line value %q", v)
			}
		}
	})
}
