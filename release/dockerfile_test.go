package release

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFinalBase(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		args       map[string]string
		want       string
		wantErr    string
	}{
		{name: "single stage", dockerfile: "FROM python:3.12-slim\nRUN true\n", want: "python:3.12-slim"},
		{name: "lower case keywords", dockerfile: "from python:3.12 as app\n", want: "python:3.12"},
		{name: "digest", dockerfile: "FROM python@sha256:" + strings.Repeat("a", 64) + "\n", want: "python@sha256:" + strings.Repeat("a", 64)},
		{name: "final stage wins", dockerfile: "FROM golang:1.26 AS build\nRUN go build\nFROM debian:bookworm-slim\nCOPY --from=build /x /x\n", want: "debian:bookworm-slim"},
		{
			name:       "global arg default",
			dockerfile: "ARG PYTHON_IMAGE=python:3.12-slim\nFROM ${PYTHON_IMAGE} AS build\nFROM ${PYTHON_IMAGE}\n",
			want:       "python:3.12-slim",
		},
		{
			name:       "build arg overrides default",
			dockerfile: "ARG PYTHON_IMAGE=python:3.12-slim\nFROM $PYTHON_IMAGE\n",
			args:       map[string]string{"PYTHON_IMAGE": "registry.local:5000/py:3.11"},
			want:       "registry.local:5000/py:3.11",
		},
		{
			name:       "build arg for an undeclared arg is not used",
			dockerfile: "FROM python:${TAG:-3.12}\n",
			args:       map[string]string{"TAG": "3.10"},
			want:       "python:3.12",
		},
		{
			name:       "default referencing an earlier arg",
			dockerfile: "ARG PY=3.11\nARG VARIANT=slim\nARG BASE=python:${PY}-${VARIANT}\nFROM ${BASE}\n",
			args:       map[string]string{"PY": "3.13"},
			want:       "python:3.13-slim",
		},
		{name: "several args in one ARG", dockerfile: "ARG A=python B=3.12\nFROM $A:$B\n", want: "python:3.12"},
		{name: "quoted default", dockerfile: "ARG IMG=\"python:3.12\"\nFROM ${IMG}\n", want: "python:3.12"},
		{name: "single-quoted literal", dockerfile: "ARG IMG='python:3.12'\nFROM ${IMG}\n", want: "python:3.12"},
		{name: "colon-dash default when unset", dockerfile: "ARG IMG\nFROM ${IMG:-python:3.12}\n", want: "python:3.12"},
		{name: "colon-dash default when empty", dockerfile: "ARG IMG=\nFROM ${IMG:-python:3.12}\n", want: "python:3.12"},
		{name: "dash default keeps empty", dockerfile: "ARG TAG=\nFROM python${TAG-:3.12}\n", want: "python"},
		{name: "plus alternative", dockerfile: "ARG SLIM=1\nFROM python:3.12${SLIM:+-slim}\n", want: "python:3.12-slim"},
		{name: "nested default", dockerfile: "ARG V=3.12\nFROM ${IMG:-python:${V}}\n", want: "python:3.12"},
		{name: "escaped dollar", dockerfile: "FROM py\\$x\n", want: "py$x"},
		{name: "stage arg does not reach FROM", dockerfile: "FROM a AS one\nARG IMG=b\nFROM ${IMG:-c}\n", want: "c"},
		{
			name:       "alias",
			dockerfile: "ARG PYTHON_IMAGE=python:3.12-slim\nFROM ${PYTHON_IMAGE} AS base\nFROM base AS build\nRUN pip wheel .\nFROM base AS runtime\nCOPY --from=build /w /w\n",
			want:       "python:3.12-slim",
		},
		{name: "alias case-insensitive", dockerfile: "FROM alpine:3.20 AS Base\nFROM BASE\n", want: "alpine:3.20"},
		{name: "alias chain", dockerfile: "FROM a:1 AS x\nFROM x AS y\nFROM y AS z\nFROM z\n", want: "a:1"},
		{name: "platform flag", dockerfile: "FROM --platform=$BUILDPLATFORM golang AS build\nFROM --platform=linux/amd64 python:3.12\n", want: "python:3.12"},
		{name: "platform arg given", dockerfile: "FROM base-${TARGETARCH}\n", args: map[string]string{"TARGETARCH": "arm64"}, want: "base-arm64"},
		{name: "scratch", dockerfile: "FROM golang AS build\nFROM scratch\nCOPY --from=build /app /app\n", want: ""},
		{name: "scratch through alias", dockerfile: "FROM scratch AS empty\nFROM empty\n", want: ""},
		{name: "continuation", dockerfile: "FROM \\\n  python:3.12 \\\n  AS app\n", want: "python:3.12"},
		{name: "continuation with trailing spaces, comment and blank lines", dockerfile: "FROM \\  \n# a comment\n\n  python:3.12\n", want: "python:3.12"},
		{name: "crlf", dockerfile: "ARG X=python:3.12\r\nFROM ${X}\r\n", want: "python:3.12"},
		{name: "bom", dockerfile: "\xef\xbb\xbfFROM python:3.12\n", want: "python:3.12"},
		{name: "comments and indentation", dockerfile: "# FROM wrong\n  # FROM wrong too\n\tFROM python:3.12\n", want: "python:3.12"},
		{name: "syntax directive", dockerfile: "# syntax=docker/dockerfile:1\nFROM python:3.12\n", want: "python:3.12"},
		{name: "escape directive", dockerfile: "# escape=`\nFROM `\n  mcr.example/windows:ltsc2022\nRUN dir c:\\\n", want: "mcr.example/windows:ltsc2022"},
		{name: "escape directive after a comment is a comment", dockerfile: "# hello\n# escape=`\nFROM a \\\n  AS b\n", want: "a"},
		{
			name:       "heredoc body is data",
			dockerfile: "FROM python:3.12 AS build\nRUN <<EOF\necho hi\nFROM evil\nEOF\nFROM python:3.12-slim\nCOPY <<-'CONF' /etc/x.conf\n\tFROM also-data\n\tCONF\n",
			want:       "python:3.12-slim",
		},
		{name: "no FROM", dockerfile: "ARG X=1\n", wantErr: "no FROM"},
		{name: "empty", dockerfile: "", wantErr: "no FROM"},
		{name: "unset arg in final FROM", dockerfile: "ARG IMG\nFROM ${IMG}\n", wantErr: "IMG has no value"},
		{name: "platform arg unknown", dockerfile: "FROM base-${TARGETARCH}\n", wantErr: "TARGETARCH has no value"},
		{name: "unset arg in an earlier stage only", dockerfile: "FROM b-${TARGETARCH} AS x\nFROM python:3\n", want: "python:3"},
		{name: "unterminated brace", dockerfile: "ARG A=x\nFROM ${A\n", wantErr: "missing '}'"},
		{name: "unsupported modifier", dockerfile: "ARG A=x\nFROM ${A%x}\n", wantErr: "unsupported substitution"},
		{name: "too many words", dockerfile: "FROM a b\n", wantErr: "FROM requires"},
		{name: "bad arg name", dockerfile: "ARG 1X=a\nFROM a\n", wantErr: "invalid name"},
		{name: "bad escape", dockerfile: "# escape=x\nFROM a\n", wantErr: "invalid escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FinalBase([]byte(tt.dockerfile), tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FinalBase() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FinalBase() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FinalBase() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFinalBaseUnresolvedIsTyped(t *testing.T) {
	_, err := FinalBase([]byte("FROM x-${TARGETARCH}\n"), nil)
	if !errors.Is(err, ErrBaseUnresolved) {
		t.Errorf("FinalBase() error = %v, want ErrBaseUnresolved", err)
	}
}

func FuzzFinalBase(f *testing.F) {
	for _, s := range []string{
		"FROM python:3.12-slim\n",
		"ARG A=python B=3.12\nFROM $A:$B AS x\nFROM x\n",
		"# escape=`\nFROM `\n a\n",
		"FROM a AS b\nRUN <<EOF\nFROM c\nEOF\nFROM b\n",
		"ARG I\nFROM ${I:-${J:+k}}\n",
		"FROM --platform=$BUILDPLATFORM 'a b' as \"c\"\n",
		"FROM scratch\n",
	} {
		f.Add([]byte(s), "value")
	}
	f.Fuzz(func(t *testing.T, dockerfile []byte, arg string) {
		args := map[string]string{"A": arg, "TARGETARCH": arg}
		got, err := FinalBase(dockerfile, args)
		if err != nil {
			return
		}
		if strings.Contains(got, "\n") && !strings.Contains(arg, "\n") {
			t.Errorf("FinalBase(%q) = %q spans lines", dockerfile, got)
		}
		if strings.EqualFold(got, "scratch") {
			t.Errorf("FinalBase(%q) = scratch, want \"\"", dockerfile)
		}
		if again, err2 := FinalBase(dockerfile, args); again != got || (err2 == nil) != (err == nil) {
			t.Errorf("FinalBase is not deterministic: %q then %q", got, again)
		}
	})
}
